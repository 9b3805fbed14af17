// Package vhd reads Virtual Hard Disk (VHD) images: fixed, dynamic and
// differencing disks with parent chains, and writes the fixed-VHD footer of
// Azure replica disks.
//
// The published VHD specification (v1.0) is the authority. Where it is loose,
// this package chooses as follows.
//
// Size. The virtual size is the footer's CurrentSize, as Hyper-V reads it;
// the CHS geometry is only reported (a warning when it covers more than
// CurrentSize). Dynamic and differencing disks are limited to 2 TiB (BAT
// entries are 32-bit sector numbers) and to 4 Mi BAT entries; fixed disks to
// 64 TiB, so that large replicas can be read back.
//
// Footer. The footer at the end of the file is authoritative. A 511-byte
// footer (written before Virtual PC 2004) is accepted. When the tail footer
// of a dynamic or differencing disk has a bad checksum, the copy at offset 0
// is used if it is valid; a fixed disk with a bad footer is refused.
//
// Sector bitmaps. Inside an allocated block a sector is present only when
// its bitmap bit (most significant bit first) is set, for dynamic disks as
// well as differencing ones: an absent sector of a dynamic disk reads as
// zeros whatever the data area holds, and an absent sector of a differencing
// disk is read from the parent. Extents follow the same rule at 512-byte
// granularity, so they never need to read data.
//
// BAT. Only the entries covering CurrentSize are loaded and checked; extra
// entries up to MaxTableEntries are ignored. Every allocated block, bitmap
// included, must lie between the footer copy and the tail footer and overlap
// neither the dynamic header, the BAT nor another block.
//
// Parents. The candidates for a differencing disk's parent are tried in this
// order, and the first whose footer UniqueId equals the child's
// ParentUniqueId is taken:
//
//  1. each W2ru locator (a path relative to the child's directory);
//  2. each W2ku locator (an absolute path) that is absolute on this system;
//  3. the base name of each W2ru and W2ku locator, then of the header's
//     ParentUnicodeName, in the child's directory.
//
// Locator paths are UTF-16LE; backslashes become this system's separator.
// On Linux a Windows drive-letter path such as C:\VMs\base.vhd is not
// absolute, so it is reached only by rule 3 (base.vhd beside the child); a
// path written by a Unix tool (/srv/base.vhd) is used as is. The deprecated
// Wi2r/Wi2k and the Mac locators are ignored. A parent must be a VHD;
// its TimeStamp must equal the child's ParentTimeStamp (a difference means
// the parent changed after the child was made) and its CurrentSize the
// child's, else ErrParentMismatch. A candidate of the wrong UniqueId, or a
// file already in the chain, is passed over and the search goes on; if no
// candidate is the parent, the first such problem is the error. Chains are
// at most MaxChainDepth files; a parent whose UniqueId is already in the
// chain is a cycle (ErrChain), as is a chain whose only candidates are its
// own files. Candidates must be regular files or block devices.
//
// Errors. Problems with a file are *FormatError values naming the file, the
// structure and the field, wrapping one of the sentinels (ErrBadChecksum,
// ErrCorrupt, ErrUnsupported, ErrNotVHD, ErrParentNotFound,
// ErrParentMismatch, ErrChain). Things that are accepted but unusual are
// listed by Disk.Warnings.
package vhd
