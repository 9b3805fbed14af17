package delta

import (
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Stats counts a Writer's work so far.
type Stats struct {
	BytesIn    int64 // data bytes accepted
	BytesOut   int64 // object bytes written
	Extents    int64 // table entries produced
	Compressed int64 // entries stored zstd encoded
}

// Writer streams one object to an io.Writer in a single pass: the header,
// then each data extent's stored bytes as its data arrives, then the extent
// table and the footer on Close. It holds one chunk of at most MaxChunk
// bytes, its compressed form, and EntrySize bytes per table entry.
type Writer struct {
	w      io.Writer
	plan   []Extent
	pi     int   // index of the plan extent being filled
	done   int64 // bytes of plan[pi] already emitted
	chunk  []byte
	n      int // bytes of chunk filled
	cmp    []byte
	enc    *zstd.Encoder
	table  []byte
	objCRC uint64
	stats  Stats
	count  int64 // table entries the plan yields
	err    error // sticky: set by the first failure and by Close
}

// NewWriter writes the header of an object for the given disk ranges and
// returns a Writer that takes, through Write or ReadFrom, the bytes of
// every Data extent of plan in order, concatenated. plan must be sorted,
// non-overlapping, sector aligned and inside hdr.VirtualSize; the Writer
// splits data extents into chunks of at most MaxChunk bytes. plan must not
// change until Close returns.
func NewWriter(w io.Writer, hdr Header, plan []Extent) (*Writer, error) {
	if err := hdr.validate(ErrInvalid); err != nil {
		return nil, err
	}
	count, largest, err := planEntries(&hdr, plan)
	if err != nil {
		return nil, err
	}
	dw := &Writer{w: w, plan: plan, count: count,
		table: make([]byte, 0, count*EntrySize),
		chunk: make([]byte, 0, largest)}
	if hdr.Compression&CompressionZstd != 0 {
		if dw.enc, err = newEncoder(); err != nil {
			return nil, fmt.Errorf("delta: zstd encoder: %w", err)
		}
		dw.cmp = make([]byte, 0, dw.enc.MaxEncodedSize(int(largest)))
	}
	if err := dw.emit(marshalHeader(&hdr, count)); err != nil {
		return nil, err
	}
	return dw, nil
}

// planEntries checks plan and returns how many table entries it yields and
// the largest data chunk among them.
func planEntries(hdr *Header, plan []Extent) (count, largest int64, err error) {
	var prevEnd int64
	for i, e := range plan {
		bad := func(why string) (int64, int64, error) {
			return 0, 0, fmt.Errorf("delta: plan extent %d (offset %d, length %d): %s: %w", i, e.Offset, e.Length, why, ErrInvalid)
		}
		switch {
		case e.Kind != Data && e.Kind != Zero:
			return bad(fmt.Sprintf("kind %d", e.Kind))
		case e.Length <= 0 || e.Offset < 0 || e.Offset%SectorSize != 0 || e.Length%SectorSize != 0:
			return bad("not a positive sector-aligned range")
		case e.Offset < prevEnd:
			return bad("overlaps or precedes the previous extent")
		case e.Length > hdr.VirtualSize || e.Offset > hdr.VirtualSize-e.Length:
			return bad("ends past the virtual size")
		}
		prevEnd = e.End()
		count++
		if e.Kind == Data {
			count += (e.Length - 1) / MaxChunk
			largest = max(largest, min(e.Length, MaxChunk))
		}
		if count > MaxExtents {
			return bad(fmt.Sprintf("more than %d table entries", MaxExtents))
		}
	}
	return count, largest, nil
}

// Stats returns the counters so far.
func (w *Writer) Stats() Stats { return w.stats }

// emit writes p to the underlying writer and folds it into the object CRC.
func (w *Writer) emit(p []byte) error {
	if _, err := w.w.Write(p); err != nil {
		return fmt.Errorf("delta: write at object offset %d: %w", w.stats.BytesOut, err)
	}
	w.objCRC = crcUpdate(w.objCRC, p)
	w.stats.BytesOut += int64(len(p))
	return nil
}
