package delta

import (
	"fmt"
	"io"
)

// scanBatch is how many table entries one read fetches.
const scanBatch = 1024

// tableScanner reads and checks the extent table in batches, so memory does
// not grow with the number of extents.
type tableScanner struct {
	ra    io.ReaderAt
	ft    *footer
	check tableCheck
	buf   []byte
	pos   int   // next unread byte in buf
	next  int64 // index of the next entry
	crc   uint64
}

// newTableScanner starts reading the table of an opened object.
func newTableScanner(ra io.ReaderAt, hi *headerInfo, ft *footer) *tableScanner {
	n := min(ft.count, scanBatch)
	return &tableScanner{ra: ra, ft: ft, check: newTableCheck(hi, ft.tableOff), buf: make([]byte, 0, n*EntrySize)}
}

// entry returns the next checked entry, or io.EOF after the last one once the
// table CRC and the totals have been confirmed.
func (s *tableScanner) entry() (entry, error) {
	if s.next == s.ft.count {
		return entry{}, s.finish()
	}
	if s.pos == len(s.buf) {
		if err := s.fill(); err != nil {
			return entry{}, err
		}
	}
	pos := s.ft.tableOff + s.next*EntrySize
	e, err := s.check.check(s.next, pos, parseEntry(s.buf[s.pos:]))
	if err != nil {
		return entry{}, err
	}
	s.pos += EntrySize
	s.next++
	return e, nil
}

// fill reads the next batch of entries.
func (s *tableScanner) fill() error {
	n := min(s.ft.count-s.next, scanBatch)
	off := s.ft.tableOff + s.next*EntrySize
	s.buf = s.buf[:n*EntrySize]
	if err := readFull(s.ra, s.buf, off, "table"); err != nil {
		return err
	}
	s.crc = crcUpdate(s.crc, s.buf)
	s.pos = 0
	return nil
}

// finish checks the table CRC and that the payload and data totals add up.
func (s *tableScanner) finish() error {
	if s.crc != s.ft.tableCRC {
		return fmt.Errorf("delta: table crc in footer is %#x, computed %#x over offset %d: %w", s.ft.tableCRC, s.crc, s.ft.tableOff, ErrChecksum)
	}
	if s.check.cursor != s.ft.tableOff {
		return fmt.Errorf("delta: payload ends at offset %d but the table starts at %d: %w", s.check.cursor, s.ft.tableOff, ErrCorrupt)
	}
	if s.check.dataBytes != s.ft.dataBytes {
		return fmt.Errorf("delta: footer data bytes is %d, extents sum to %d: %w", s.ft.dataBytes, s.check.dataBytes, ErrCorrupt)
	}
	return io.EOF
}

// readFull reads len(p) bytes at off, naming the structure on failure. A
// short read means the object is truncated; other read errors pass through.
func readFull(ra io.ReaderAt, p []byte, off int64, what string) error {
	n, err := ra.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err != nil && err != io.EOF {
		return fmt.Errorf("delta: read %s at offset %d (%d bytes): %w", what, off, len(p), err)
	}
	return fmt.Errorf("delta: read %s at offset %d (%d bytes): short read of %d: %w", what, off, len(p), n, ErrCorrupt)
}
