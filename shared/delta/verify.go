package delta

import (
	"fmt"
	"io"
)

// Verify checks an entire object: header, footer, table, every data
// extent's decompressed length and CRC-64, and the object CRC-64 over
// everything before it. It reads every stored byte once.
func Verify(ra io.ReaderAt, size int64) error {
	r, err := NewReader(ra, size)
	if err != nil {
		return err
	}
	it := r.Extents()
	defer it.Close()
	it.track = true
	for {
		e, err := it.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if e.Kind == Data {
			if _, err := it.Data(); err != nil {
				return err
			}
		}
	}
	return r.checkObjectCRC(it.payloadCRC)
}

// checkObjectCRC combines the CRCs of header, payload, table and footer and
// compares the result with the footer's object CRC.
func (r *Reader) checkObjectCRC(payloadCRC uint64) error {
	c := crcCombine(r.head, payloadCRC, r.ft.tableOff-HeaderSize)
	c = crcCombine(c, r.ft.tableCRC, r.ft.count*EntrySize)
	c = crcCombine(c, r.foot, ftObjectCRC)
	if c != r.ft.objectCRC {
		return fmt.Errorf("delta: footer object crc at offset %d is %#x, computed %#x: %w", r.size-FooterSize+ftObjectCRC, r.ft.objectCRC, c, ErrChecksum)
	}
	return nil
}
