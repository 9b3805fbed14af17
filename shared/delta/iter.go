package delta

import (
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Iterator walks an object's extents in table order. Each entry is checked
// again as it is read, and a data extent's bytes are checked against its
// CRC-64 when Data returns them.
type Iterator struct {
	r      *Reader
	sc     *tableScanner
	cur    entry
	index  int64
	have   bool
	err    error
	dec    *zstd.Decoder
	stored []byte
	data   []byte

	track      bool   // accumulate the CRC of stored bytes, for Verify
	payloadCRC uint64 // CRC-64 of the stored bytes of extents read so far
}

// Next returns the next extent. It returns io.EOF after the last extent,
// once the table CRC and totals are confirmed; any other error is final.
func (it *Iterator) Next() (Extent, error) {
	if it.err != nil {
		return Extent{}, it.err
	}
	e, err := it.sc.entry()
	if err != nil {
		it.err, it.have = err, false
		return Extent{}, err
	}
	it.cur, it.index, it.have = e, it.sc.next-1, true
	return e.Extent, nil
}

// Data returns the uncompressed bytes of the current data extent, checked
// against its CRC-64. The slice is valid until the next call to Next or
// Data. For a zero extent, or before the first Next, it returns nil, nil.
func (it *Iterator) Data() ([]byte, error) {
	if !it.have || it.cur.Kind != Data {
		return nil, nil
	}
	out, err := it.load(&it.cur)
	if err != nil {
		return nil, fmt.Errorf("delta: extent %d (disk offset %d, payload offset %d): %w", it.index, it.cur.Offset, it.cur.payloadOff, err)
	}
	if got := checksum(out); got != it.cur.crc {
		return nil, fmt.Errorf("delta: extent %d (disk offset %d, payload offset %d): crc in table is %#x, computed %#x: %w",
			it.index, it.cur.Offset, it.cur.payloadOff, it.cur.crc, got, ErrChecksum)
	}
	if it.track {
		it.trackStored(out)
	}
	return out, nil
}

// load reads and, if needed, decompresses the current extent.
func (it *Iterator) load(e *entry) ([]byte, error) {
	out := grow(&it.data, e.Length)
	if e.enc == Raw {
		return out, readFull(it.r.ra, out, e.payloadOff, "extent payload")
	}
	src := grow(&it.stored, e.stored)
	if err := readFull(it.r.ra, src, e.payloadOff, "extent payload"); err != nil {
		return nil, err
	}
	if it.dec == nil {
		dec, err := newDecoder()
		if err != nil {
			return nil, fmt.Errorf("zstd decoder: %w", err)
		}
		it.dec = dec
	}
	return out, decodeExact(it.dec, src, out)
}

// trackStored folds the current extent's stored bytes into payloadCRC. Raw
// stored bytes are the data, whose CRC is already known.
func (it *Iterator) trackStored(out []byte) {
	c := it.cur.crc
	if it.cur.enc != Raw {
		c = checksum(it.stored[:it.cur.stored])
	}
	it.payloadCRC = crcCombine(it.payloadCRC, c, it.cur.stored)
}

// Close releases the decoder. The iterator must not be used afterwards.
func (it *Iterator) Close() {
	if it.dec != nil {
		it.dec.Close()
		it.dec = nil
	}
	it.err, it.have = errClosed, false
}

// errClosed is returned by an iterator after Close.
var errClosed = fmt.Errorf("delta: iterator closed: %w", ErrInvalid)

// grow returns (*buf)[:n], reallocating when the capacity is short. n never
// exceeds MaxChunk, a bound the table check guarantees.
func grow(buf *[]byte, n int64) []byte {
	if int64(cap(*buf)) < n {
		*buf = make([]byte, n)
	}
	return (*buf)[:n]
}
