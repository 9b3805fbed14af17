package delta

import (
	"fmt"
	"io"
)

// Reader gives access to an object whose header, footer and extent table
// have been checked. Payload bytes are checked extent by extent as they are
// read.
type Reader struct {
	ra   io.ReaderAt
	size int64
	hi   headerInfo
	ft   footer
	head uint64 // CRC-64 of the whole header, for Verify
	foot uint64 // CRC-64 of the footer before the object CRC, for Verify
}

// NewReader opens the object of the given size read through ra. It checks
// the header, the footer and the whole extent table, reading the table in
// batches, and allocates nothing in proportion to declared counts.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	if size < minObjectSize {
		return nil, fmt.Errorf("delta: object size %d is below the minimum %d: %w", size, minObjectSize, ErrCorrupt)
	}
	r := &Reader{ra: ra, size: size}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	if err := r.readFooter(); err != nil {
		return nil, err
	}
	sc := newTableScanner(ra, &r.hi, &r.ft)
	for {
		if _, err := sc.entry(); err == io.EOF {
			return r, nil
		} else if err != nil {
			return nil, err
		}
	}
}

// readHeader reads and checks the header, and that the object is large
// enough for the extent count it declares.
func (r *Reader) readHeader() error {
	b := make([]byte, HeaderSize)
	if err := readFull(r.ra, b, 0, "header"); err != nil {
		return err
	}
	hi, err := parseHeader(b)
	if err != nil {
		return err
	}
	if need := minObjectSize + hi.count*EntrySize; need > r.size {
		return fmt.Errorf("delta: header extent count at offset 72 is %d, needing %d bytes, but the object has %d: %w", hi.count, need, r.size, ErrTooLarge)
	}
	r.hi, r.head = hi, checksum(b)
	return nil
}

// readFooter reads and checks the footer.
func (r *Reader) readFooter() error {
	b := make([]byte, FooterSize)
	if err := readFull(r.ra, b, r.size-FooterSize, "footer"); err != nil {
		return err
	}
	ft, err := parseFooter(b, r.size, &r.hi)
	if err != nil {
		return err
	}
	r.ft, r.foot = ft, checksum(b[:ftObjectCRC])
	return nil
}

// Header returns the object's header.
func (r *Reader) Header() Header {
	h := r.hi.Header
	h.LogIDs = append([]ID(nil), h.LogIDs...)
	return h
}

// ExtentCount returns the number of entries in the extent table.
func (r *Reader) ExtentCount() int64 { return r.ft.count }

// DataBytes returns the sum of the lengths of all data extents.
func (r *Reader) DataBytes() int64 { return r.ft.dataBytes }

// Extents returns an iterator over the extents in table order. Close it
// when done.
func (r *Reader) Extents() *Iterator {
	return &Iterator{r: r, sc: newTableScanner(r.ra, &r.hi, &r.ft)}
}
