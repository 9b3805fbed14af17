// Package hrl reads, writes and coalesces Hyper-V Replica Log files
// ([MS-HRL] revision 6.0), the change-tracking logs every delta cycle is
// built from.
//
// # Reading
//
// Open (or NewReader) validates the whole file before returning: the
// 4096-byte header, the backward chain of metadata blocks from EOLLocation,
// every valid entry, and the contiguity rule (the data of a block's entries
// fills the bytes from the end of the previous block, or of the header, up
// to the block, in slot order, with no gap). Log.Entries yields the writes
// in replay order, block order then slot order; timestamps never decide
// order. Log.Verify reads the data once, front to back, and checks every
// recorded DataChecksum. Every rejection wraps one named sentinel (ErrX) and
// names the file, the structure, its offset and the field. No allocation is
// sized from a file field before that field is bounded: MetadataSize is
// capped at 1 MiB, the block list grows one block at a time up to what the
// file can hold and Options.MaxBlocks, and entries are read block by block.
//
// # Writing
//
// Create/NewWriter write the header with EOLLocation = 0, then append each
// write's data and, every EntriesPerBlock entries (or MaxBlockData bytes, or
// on Flush), one metadata block; Close writes the final header. The
// durability model is described on Writer: fsync only when a block is
// sealed and at Close, and a crash at any point leaves a file readers reject
// (ErrNotClosed, or ErrChecksum for a header torn inside its first 128
// bytes), never one they misread.
//
// # Coalescing
//
// Coalescer replays the entries of a chain of logs (PreviousUniqueId
// checked) into a sorted, chunked list of non-overlapping extents (a
// two-level B-tree) that reference the log files; later writes split
// earlier extents byte for byte, and extents that continue each other on
// disk and in the file are merged. Extents yields
// them in disk order and ApplyTo copies the surviving bytes.
//
// # Choices where the specification is silent
//
//   - Byte order: little-endian everywhere. LogFormatVersion must read
//     exactly 0x00020000 or 0x00010000, which also rejects a byte-swapped
//     file (ErrUnsupportedVersion); another minor version is rejected too.
//   - Cookie byte 7: readers accept 0x00 or 0x20; the writer writes 0x00.
//     CreatorApplication is never validated; the writer writes "hvm" padded
//     with NUL.
//   - Version 1: read only; header bytes 110..125 are treated as reserved
//     (included in the checksum, Vhd2DataWriteGUID reads as zero).
//   - GUIDs are compared and copied as the 16 raw bytes of the file and
//     shown in the Windows layout (first three groups little-endian), the
//     layout VHDX uses; GUIDFromCanonical converts from text order.
//   - Vhd2DataWriteGuid: the writer takes it from the caller, who samples
//     the tracked VHDX's DataWriteGuid when the log is created (before the
//     first write is logged). The reader compares it byte for byte with
//     Options.ExpectedDataWriteGUID when the caller gives one (ErrDataWriteGUID
//     on mismatch, and for a v1 log, which has no such field); with none it
//     is reported only. Deciding what to expect is the caller's policy.
//   - ErrorCode: undocumented, written as 0; a non-zero value is rejected
//     (ErrErrorCode) unless Options.AllowErrorCode.
//   - LastModifiedTimeStamp is written as the close time, TotalMetadataEntries
//     as the number of valid entries (a mismatch is warning F1), CurrentSize
//     and OriginalSize as the file length (a CurrentSize mismatch is warning
//     H10).
//   - PreviousUniqueId of the first log of a chain is written as zero; the
//     reader does not judge it (the chain policy is the caller's).
//   - Slots per block are (MetadataSize-32)/32; valid entries occupy slots
//     0..n-1 in write order; unused slots are written as zeros and never read.
//   - MetadataSize must be a multiple of 32 in [64, 1 MiB]; the writer uses
//     4096 and writes a leading empty block at 4096, like the specification's
//     example. Readers accept files with or without it. EOLLocation must be
//     at least 4096 + MetadataSize.
//   - DataChecksum: the writer records it (Options.OmitDataChecksum writes
//     0) and the entry checksum covers it. The reader treats 0 on at most
//     16 MiB of data as "not recorded" (such data cannot sum to 0);
//     EntryChecksumLenient also accepts an entry checksum computed with
//     DataChecksum counted as zero, until real Hyper-V files settle which
//     one Hyper-V writes.
//   - Alignment: ByteOffset and DataLength must be multiples of
//     Options.SectorSize (default 512) unless Options.AllowUnaligned.
//   - DataLength 0 is a no-op with warning E5; the writer never records one.
//   - Reopening a log for append is not supported; a log left open is
//     rejected and never salvaged.
//   - Warnings (kept, not fatal): H8 (MetadataSize not a multiple of 512),
//     H10, H11, H12 (when allowed), M7, E5, E7, F1, F2. Timestamps are informational (F2) and never reorder entries.
//
// # Erratum in the specification's example
//
// The example's metadata header checksums (4294967295 and 4294966991) and all
// 58 entry checksums reproduce from the printed fields with DataChecksum,
// Location and Reserved zero. Its header checksum (4294959739) reproduces
// under no choice of cookie byte 7 or CreatorApplication padding; the tests
// record the values obtained and carry a recomputed header checksum.
package hrl
