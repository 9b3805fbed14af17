// Package vhdx reads and writes VHDX virtual disks ([MS-VHDX] v1.0): fixed,
// dynamic and differencing (AVHDX) files and chains of them.
//
// Open returns a read-only *Disk that satisfies vdisk.Image. Create,
// CreateDifferencing and OpenWriter return a *Writer, which is also a
// vdisk.Image; Merge folds a differencing disk into its parent.
//
// # Reading
//
// GUIDs are converted from the on-disk mixed-endian layout to the canonical
// order of vdisk.GUID. The current header is the valid copy (signature,
// CRC-32C, Version 1) with the larger SequenceNumber; two valid copies with
// equal numbers must be byte-identical. Region table 1 is used unless it
// fails validation, then table 2. The Required bit is not insisted on for
// the BAT and metadata regions (qemu clears it); an unknown region or
// system metadata item with the Required bit is refused with
// ErrUnsupported, unknown optional items and all user items are ignored.
//
// Every BAT entry is checked once at open in a streamed pass: states,
// placement inside the file, overlaps with the header section, the log,
// the regions and other blocks. The pass keeps one bit per allocated MiB,
// so its memory grows with the allocated space, never with the virtual
// size. Sector bitmap entries of fixed and dynamic disks are ignored (old
// qemu versions left junk there); reserved bits 3–19 are ignored; state 5
// (UNMAPPED in the 0.95 draft) reads as UNMAPPED; BAT entries past the last
// block in the last chunk of a differencing disk are ignored. ReadAt and
// Extents read BAT entries on demand with pread and re-check the block they
// name, so a Disk holds no table whose size depends on the disk.
//
// Reads: FULLY_PRESENT from the file; PARTIALLY_PRESENT per run of sector
// bitmap bits (set: this file, clear: the parent); NOT_PRESENT from the
// parent, or zeros without one; UNDEFINED, ZERO and UNMAPPED read as zeros
// and never consult the parent. Extents reports FULLY_PRESENT blocks and set
// bitmap runs as KindData and resolves NOT_PRESENT ranges and clear bitmap
// runs through the parent chain; everything else is KindZero. Adjacent
// extents of one kind are merged.
//
// # Parent chains
//
// A parent is looked for, in order, at relative_path (from the child's
// directory), volume_path and absolute_win32_path. Windows paths are mapped
// to local ones by dropping a `\\?\` prefix and turning `\` into the
// separator; because drive-letter and volume paths do not exist on Linux,
// each of those two is followed by a try of its base name in the child's
// directory. The first candidate whose DataWriteGuid equals parent_linkage
// or parent_linkage2 wins; a parent that exists but matches neither is
// ErrParentMismatch, as are a different virtual size or logical sector
// size. Chains are at most 32 files; a file that appears twice (same
// canonical path, same file, or same DataWriteGuid) is ErrChain.
//
// # The log
//
// A file whose header has a non-zero LogGuid is replayed in memory: the log
// (at most 64 MiB, else ErrUnsupported) is scanned at every 4 KiB for valid
// entries; for each candidate head, newest first, the entries from its
// Tail are followed end to end with sequence numbers increasing by one; the
// first head that reaches itself this way gives the active sequence. None
// means an empty log. If the newest entry's sequence is broken by an entry
// that has a signature but fails validation (a bad CRC), the file is
// refused with ErrLogReplay instead of silently using an older state, as
// is a FlushedFileOffset beyond the file or a descriptor that targets the
// first 192 KiB or the log itself. The replayed sectors live in an overlay
// (memory bounded by the log size) through which the region table,
// metadata, BAT and payload are read; the file is opened O_RDONLY and never
// modified, and its size is taken as LastFileOffset when that is larger
// (by at most 1 GiB, else ErrLogReplay: a writer extends the file before it
// logs references to the new space, so a larger gap means a corrupt log).
//
// # Writing and crash safety
//
// Create writes a complete file beside the target and renames it into
// place. New files have the log (1 MiB by default) at 1 MiB, then a 1 MiB
// metadata region, then the BAT region; blocks are appended at the end of
// the file, 1 MiB aligned, and space is never reused. Defaults: 32 MiB
// blocks, 512-byte logical and 4096-byte physical sectors, a random disk id
// (a differencing disk inherits its parent's id and sector sizes, as
// Hyper-V does). A Writer keeps the BAT in memory (refusing BATs above
// 256 MiB).
//
// Opening for writing first replays any live log into the file and clears
// its LogGuid. It then writes a new header (into the slot that is not
// current, with SequenceNumber+1, then fsync) holding a new FileWriteGuid
// and a new LogGuid; the first WriteAt after that writes one more header
// with a new DataWriteGuid. Close syncs and writes a header with LogGuid
// zero.
//
// Every metadata change (BAT entries, sector bitmap sectors, metadata
// region) goes through the log. A WriteAt writes its data (into new space
// for new blocks, so nothing visible changes), then commits: fsync (data
// durable, and the previous commit's in-place writes with it), write one
// log entry at the start of the log holding every changed 4 KiB sector,
// fsync, write the sectors in place. Each entry is a sequence of its own
// (Tail = its own offset) with a larger SequenceNumber than the last, so
// after a crash the newest complete entry is replayed (idempotently) and a
// torn one is ignored; the entry it was overwriting had already been
// applied and synced. Changes too large for one entry are split, bitmap
// sectors before BAT sectors, so a BAT entry never refers to bitmap bits
// or data that are not durable. A crash therefore leaves every sector with
// either its old or its new content. Writes into already allocated blocks
// are in place and durable after Flush or Close. Partial writes into
// NOT_PRESENT blocks of a differencing disk allocate a PARTIALLY_PRESENT
// block and set bitmap bits, copying nothing from the parent. qemu refuses
// read-only opens of a file with a live log; `qemu-img check -r all`
// replays it, as our reader does in memory.
//
// # Merge
//
// Merge(child): (1) pick the DataWriteGuid G the parent will take on its
// first write and rewrite the child's locator (through the child's log) so
// that parent_linkage is the parent's current DataWriteGuid and
// parent_linkage2 is G; (2) open the parent's Writer with G and copy every
// range the child defines (data, bitmap runs, and zero states as ZERO
// blocks or written zeros) block by block; (3) close the parent; (4) remove
// the child and sync the directory. At every step the child still opens on
// top of the parent and reads the same bytes, so an interrupted Merge is
// completed by running it again. Children of the merged disk are not
// re-pointed; the caller merges from the top of the chain. The rewritten
// locator keeps the path keys but drops other metadata items of the child.
package vhdx
