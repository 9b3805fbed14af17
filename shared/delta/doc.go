// Package delta reads and writes delta objects: the changes to one virtual
// disk over one replication cycle, as the agent uploads them and the hub
// applies them to the disk's replica page blob.
//
// This comment is the specification of format version 1. A second
// implementation can be written from it alone.
//
// # Conventions
//
// All integers are unsigned and little-endian. Offsets named "object offset"
// count bytes from the start of the object; "disk offset" counts bytes from
// the start of the virtual disk. A sector is 512 bytes. Reserved bytes are
// written as zero and a reader rejects an object in which they are not.
//
// # Checksum
//
// Every checksum is the CRC-64 with the parameters Azure Storage uses for
// its transactional content CRC-64 (x-ms-content-crc64): polynomial
// 0xAD93D23594C93659 (0x9A6C9329AC4BC9B5 bit-reversed, the form Go's
// hash/crc64.MakeTable takes), input and output reflected, initial value
// and final XOR all ones. The CRC of the nine ASCII bytes "123456789" is
// 0xAE8B14860A799888 (the same parameters are published as CRC-64/NVME).
//
// CRC-64 rather than SHA-256 because: (1) the hub can hand an extent's
// stored CRC to Put Page as the transactional checksum, so storage itself
// checks that the bytes it receives are the bytes the agent read from the
// source disk, end to end, with no second hash pass; (2) the object is not
// signed, so anyone able to alter it could recompute a SHA-256 as easily,
// and a keyless cryptographic hash buys no security over a CRC; (3) a
// 64-bit CRC detects every error burst up to 64 bits and any other
// corruption with probability 1 - 2^-64, enough for storage and transfer
// errors; (4) it is cheaper than SHA-256 on CPUs without SHA instructions.
//
// # Layout
//
//	object offset 0        header             512 bytes
//	512                    payload            P bytes: stored bytes of the data extents
//	512 + P                extent table       N entries of 40 bytes
//	512 + P + 40*N         footer             64 bytes
//
// The object size is exactly 512 + P + 40*N + 64.
//
// The table follows the payload because an entry holds the stored length,
// encoding and payload offset of its extent, known only after the extent is
// compressed. With the table last, a writer streams the object in one pass
// (the agent cuts it into staged blocks as it goes) while holding one
// extent's bytes and the table (40 bytes per extent), never the payload.
// A reader that knows the object's size reads the fixed-size footer and
// header by range, then the table, then extents by range.
//
// # Header (object offset 0, 512 bytes)
//
//	offset size field
//	0      8    magic: ASCII "HVMDELTA"
//	8      2    format version: 1
//	10     1    object kind: 1 cycle delta, 2 resync delta
//	11     1    compression set: bit 0 = zstd may be used; other bits 0
//	12     4    flags: none defined in version 1, must be 0
//	16     16   VM id
//	32     16   disk id
//	48     8    cycle number
//	56     8    previous cycle number, below the cycle number: the state
//	            the replica must be at before this object is applied
//	64     8    virtual disk size in bytes: a positive multiple of 512,
//	            at most 2^46 (64 TiB)
//	72     8    extent count N: at most 2^22 (4,194,304)
//	80     4    change-tracking log id count L: at most 16
//	84     4    reserved
//	88     256  16 slots of 16-byte log ids, the logs the object was built
//	            from, in order; slots L..15 are zero
//	344    160  reserved
//	504    8    header CRC-64 of bytes 0..503
//
// # Extent table entry (40 bytes each)
//
//	offset size field
//	0      8    disk offset
//	8      8    length in bytes
//	16     8    payload offset: object offset of the stored bytes
//	24     4    stored length in bytes
//	28     1    kind: 1 data, 2 zero
//	29     1    encoding: 0 raw, 1 zstd
//	30     2    reserved
//	32     8    CRC-64 of the uncompressed bytes (zero extents: 0)
//
// Rules for entry i, each checked by a reader:
//   - disk offset and length are multiples of 512, length is not zero, and
//     disk offset + length is at most the virtual size;
//   - disk offset is at least the end (offset + length) of entry i-1:
//     extents are in increasing order and do not overlap; they may touch;
//   - payload offset equals 512 plus the stored lengths of entries 0..i-1:
//     the payload is the stored bytes of all entries, in table order, with
//     no gaps; the last entry's stored bytes end where the table starts;
//   - a zero extent has stored length 0, encoding 0 and CRC 0; its bytes
//     are all zero and the hub clears them (Clear Pages); its length has no
//     limit but the virtual size;
//   - a data extent is at most 4 MiB (4,194,304 bytes), the most one Put
//     Page call writes, so the hub writes each with one call; a writer
//     splits longer ranges into consecutive 4 MiB data extents;
//   - raw: the stored length equals the length and the stored bytes are the
//     data;
//   - zstd: allowed only if the header's compression set has bit 0; the
//     stored length is between 1 and length-1; the stored bytes are exactly
//     one zstd frame (RFC 8878), not skippable, with the Single_Segment flag
//     set, no dictionary, and a Frame_Content_Size equal to the length; the
//     frame may carry its own content checksum, which adds nothing here;
//   - kinds other than 1 and 2 and encodings other than 0 and 1 are
//     reserved.
//
// Applying the extents in table order, data as absolute writes and zero
// extents as clears, leaves bytes outside every extent untouched. Applying
// an object twice gives the same result as applying it once.
//
// # Footer (the last 64 bytes)
//
//	offset size field
//	0      8    magic: ASCII "HVMDTAIL"
//	8      8    table offset: object offset of the extent table, equal to
//	            object size - 64 - 40*N
//	16     8    extent count: equal to the header's
//	24     8    data bytes: the sum of the lengths of all data extents
//	32     8    table CRC-64 of the N*40 table bytes
//	40     8    reserved
//	48     8    footer CRC-64 of footer bytes 0..47
//	56     8    object CRC-64 of every byte of the object before this field
//
// # Reading
//
// A reader given the object's size checks, before it yields any extent:
// the size is at least 576; the header's magic, then its version, then its
// CRC, then every header field against the rules above; that the size can
// hold N table entries; the footer's magic, CRC, reserved bytes, extent
// count and table offset; then every table entry and the table CRC, and
// that the payload and the data byte total add up. The table is read in
// batches, so a reader's memory does not depend on N. Each extent's bytes
// are checked against its CRC when they are read. The object CRC needs
// every byte and is checked by Verify; an applier should run Verify over a
// downloaded object before applying any of it, so that a bad object leaves
// the replica untouched.
//
// Decompression is bounded by the declared length: the frame header must
// declare exactly the extent's length as a single segment, so the decoder
// window is that length; output beyond it is an error, found at most one
// zstd block (128 KiB) later.
//
// Errors wrap one of ErrBadMagic, ErrUnsupportedVersion, ErrUnsupported,
// ErrChecksum, ErrCorrupt (including truncation) or ErrTooLarge, and name
// the structure, the field and its object offset. Errors from the
// underlying io.ReaderAt other than a short read are passed through
// unclassified, so a failing storage read is not mistaken for corruption.
//
// # Versioning
//
// The version field changes whenever the meaning of any byte changes,
// including a new flag, compression id, kind, encoding or use of a reserved
// byte. A reader rejects versions it does not implement with
// ErrUnsupportedVersion, and since version 1 readers reject non-zero
// reserved bytes and unknown values, an object never silently loses
// meaning. The magics, the version field's position and the position of the
// footer at the end stay fixed across versions.
//
// # Writer behaviour (not part of the format)
//
// When the header's compression set includes zstd, the Writer compresses
// each data extent of at most 4 MiB with zstd at its fastest level and
// keeps the compressed form only if it saves at least one eighth; otherwise,
// or with an empty set, it stores the extent raw. It holds two 4 MiB buffers
// and the encoder's state regardless of object size, plus 40 bytes per
// table entry.
package delta
