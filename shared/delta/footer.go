package delta

import (
	"encoding/binary"
	"fmt"
)

// Field offsets inside the footer.
const (
	ftReserved  = 40
	ftCRC       = 48
	ftObjectCRC = 56
)

// footer is the decoded fixed-size structure at the end of an object.
type footer struct {
	tableOff  int64
	count     int64
	dataBytes int64
	tableCRC  uint64
	objectCRC uint64
}

// marshalFooter encodes f up to, not including, the object CRC.
func marshalFooter(f *footer) []byte {
	le := binary.LittleEndian
	b := make([]byte, ftObjectCRC, FooterSize)
	copy(b, footerMagic)
	le.PutUint64(b[8:], uint64(f.tableOff))
	le.PutUint64(b[16:], uint64(f.count))
	le.PutUint64(b[24:], uint64(f.dataBytes))
	le.PutUint64(b[32:], f.tableCRC)
	le.PutUint64(b[ftCRC:], checksum(b[:ftCRC]))
	return b
}

// parseFooter decodes and checks the footer of an object of the given size
// against its header.
func parseFooter(b []byte, size int64, hi *headerInfo) (footer, error) {
	le := binary.LittleEndian
	pos := size - FooterSize
	var f footer
	if string(b[0:8]) != footerMagic {
		return f, fmt.Errorf("delta: footer magic at offset %d is %q: %w", pos, b[0:8], ErrBadMagic)
	}
	if got, want := checksum(b[:ftCRC]), le.Uint64(b[ftCRC:]); got != want {
		return f, fmt.Errorf("delta: footer crc at offset %d is %#x, computed %#x: %w", pos+ftCRC, want, got, ErrChecksum)
	}
	if !allZero(b[ftReserved:ftCRC]) {
		return f, fmt.Errorf("delta: footer reserved bytes at offset %d not zero: %w", pos+ftReserved, ErrCorrupt)
	}
	if n := le.Uint64(b[16:]); n != uint64(hi.count) {
		return f, fmt.Errorf("delta: footer extent count at offset %d is %d, header says %d: %w", pos+16, n, hi.count, ErrCorrupt)
	}
	want := pos - hi.count*EntrySize
	if t := le.Uint64(b[8:]); t != uint64(want) {
		return f, fmt.Errorf("delta: footer table offset at offset %d is %d, want %d for %d extents: %w", pos+8, t, want, hi.count, ErrCorrupt)
	}
	f.tableOff, f.count = want, hi.count
	d := le.Uint64(b[24:])
	if d > uint64(hi.count)*MaxChunk {
		return f, fmt.Errorf("delta: footer data bytes at offset %d is %d, above %d extents of %d: %w", pos+24, d, hi.count, MaxChunk, ErrCorrupt)
	}
	f.dataBytes = int64(d)
	f.tableCRC, f.objectCRC = le.Uint64(b[32:]), le.Uint64(b[ftObjectCRC:])
	return f, nil
}
