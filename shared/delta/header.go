package delta

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Field offsets inside the header.
const (
	hdrLogCount = 80
	hdrLogIDs   = 88
	hdrReserved = hdrLogIDs + 16*MaxLogIDs
	hdrCRC      = HeaderSize - 8
)

// headerInfo is a decoded header with the count only the format sets.
type headerInfo struct {
	Header
	count int64
}

// marshalHeader encodes h with the given extent count.
func marshalHeader(h *Header, count int64) []byte {
	b := make([]byte, HeaderSize)
	le := binary.LittleEndian
	copy(b[0:8], headerMagic)
	le.PutUint16(b[8:], Version)
	b[10] = byte(h.Kind)
	b[11] = byte(h.Compression)
	copy(b[16:32], h.VMID[:])
	copy(b[32:48], h.DiskID[:])
	le.PutUint64(b[48:], h.Cycle)
	le.PutUint64(b[56:], h.PrevCycle)
	le.PutUint64(b[64:], uint64(h.VirtualSize))
	le.PutUint64(b[72:], uint64(count))
	le.PutUint32(b[hdrLogCount:], uint32(len(h.LogIDs)))
	for i, id := range h.LogIDs {
		copy(b[hdrLogIDs+16*i:], id[:])
	}
	le.PutUint64(b[hdrCRC:], checksum(b[:hdrCRC]))
	return b
}

// parseHeader decodes and checks the HeaderSize bytes at object offset 0.
func parseHeader(b []byte) (headerInfo, error) {
	le := binary.LittleEndian
	var hi headerInfo
	if string(b[0:8]) != headerMagic {
		return hi, fmt.Errorf("delta: header magic at offset 0 is %q: %w", b[0:8], ErrBadMagic)
	}
	if v := le.Uint16(b[8:]); v != Version {
		return hi, fmt.Errorf("delta: header version at offset 8 is %d, want %d: %w", v, Version, ErrUnsupportedVersion)
	}
	if got, want := checksum(b[:hdrCRC]), le.Uint64(b[hdrCRC:]); got != want {
		return hi, fmt.Errorf("delta: header crc at offset %d is %#x, computed %#x: %w", hdrCRC, want, got, ErrChecksum)
	}
	if err := checkHeaderCodes(b); err != nil {
		return hi, err
	}
	hi.Kind = ObjectKind(b[10])
	hi.Compression = Compression(b[11])
	copy(hi.VMID[:], b[16:32])
	copy(hi.DiskID[:], b[32:48])
	hi.Cycle = le.Uint64(b[48:])
	hi.PrevCycle = le.Uint64(b[56:])
	if err := parseSizes(b, &hi); err != nil {
		return hi, err
	}
	if err := parseLogIDs(b, &hi); err != nil {
		return hi, err
	}
	return hi, hi.validate(nil)
}

// checkHeaderCodes checks the flags and reserved bytes.
func checkHeaderCodes(b []byte) error {
	if f := binary.LittleEndian.Uint32(b[12:]); f != 0 {
		return fmt.Errorf("delta: header flags at offset 12 are %#x, none defined: %w", f, ErrUnsupported)
	}
	if !allZero(b[84:88]) {
		return fmt.Errorf("delta: header reserved bytes at offset 84 not zero: %w", ErrCorrupt)
	}
	if !allZero(b[hdrReserved:hdrCRC]) {
		return fmt.Errorf("delta: header reserved bytes at offset %d not zero: %w", hdrReserved, ErrCorrupt)
	}
	return nil
}

// parseSizes decodes the virtual size and the extent count, bounding both.
func parseSizes(b []byte, hi *headerInfo) error {
	vs := binary.LittleEndian.Uint64(b[64:])
	if vs > MaxVirtualSize {
		return fmt.Errorf("delta: header virtual size at offset 64 is %d, above %d: %w", vs, uint64(MaxVirtualSize), ErrTooLarge)
	}
	n := binary.LittleEndian.Uint64(b[72:])
	if n > MaxExtents {
		return fmt.Errorf("delta: header extent count at offset 72 is %d, above %d: %w", n, MaxExtents, ErrTooLarge)
	}
	hi.VirtualSize, hi.count = int64(vs), int64(n)
	return nil
}

// parseLogIDs decodes the log ids; unused slots must be zero.
func parseLogIDs(b []byte, hi *headerInfo) error {
	n := binary.LittleEndian.Uint32(b[hdrLogCount:])
	if n > MaxLogIDs {
		return fmt.Errorf("delta: header log id count at offset %d is %d, above %d: %w", hdrLogCount, n, MaxLogIDs, ErrTooLarge)
	}
	hi.LogIDs = make([]ID, n)
	for i := range hi.LogIDs {
		copy(hi.LogIDs[i][:], b[hdrLogIDs+16*i:])
	}
	if used := hdrLogIDs + 16*int(n); !allZero(b[used:hdrReserved]) {
		return fmt.Errorf("delta: header unused log id slots at offset %d not zero: %w", used, ErrCorrupt)
	}
	return nil
}

// allZero reports whether every byte of p is zero.
func allZero(p []byte) bool {
	return len(p) == 0 || (p[0] == 0 && bytes.Equal(p[1:], p[:len(p)-1]))
}
