package delta

import (
	"encoding/binary"
	"fmt"
	"io"
)

// errWriterClosed is returned by a Writer after Close.
var errWriterClosed = fmt.Errorf("delta: writer closed: %w", ErrInvalid)

// Write takes the next len(p) bytes of plan data. Writing more bytes than
// the plan's data extents hold is an error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	total := 0
	for len(p) > 0 {
		buf := w.room()
		if buf == nil {
			return total, w.fail(fmt.Errorf("delta: %d bytes beyond the plan's data: %w", len(p), ErrInvalid))
		}
		n := copy(buf, p)
		p, total = p[n:], total+n
		if err := w.commit(n); err != nil {
			return total, w.fail(err)
		}
	}
	return total, nil
}

// ReadFrom reads plan data from r until io.EOF, straight into the chunk
// buffer. A read error from r is returned and leaves the Writer usable.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for w.err == nil {
		buf := w.room()
		if buf == nil {
			var probe [1]byte
			if n, _ := io.ReadFull(r, probe[:]); n > 0 {
				return total, w.fail(fmt.Errorf("delta: reader has bytes beyond the plan's data: %w", ErrInvalid))
			}
			return total, nil
		}
		n, err := r.Read(buf)
		total += int64(n)
		if cerr := w.commit(n); cerr != nil {
			return total, w.fail(cerr)
		}
		if err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, fmt.Errorf("delta: read plan data: %w", err)
		}
	}
	return total, w.err
}

// room records the zero extents at the cursor and returns the unfilled part
// of the current data chunk, or nil when the plan has no data left.
func (w *Writer) room() []byte {
	for w.pi < len(w.plan) && w.plan[w.pi].Kind == Zero {
		w.addEntry(&entry{Extent: w.plan[w.pi], payloadOff: w.stats.BytesOut})
		w.pi++
	}
	if w.pi == len(w.plan) {
		return nil
	}
	clen := min(MaxChunk, w.plan[w.pi].Length-w.done)
	return w.chunk[w.n:clen]
}

// commit marks n more bytes of the current chunk filled and stores the
// chunk once it is complete.
func (w *Writer) commit(n int) error {
	e := w.plan[w.pi]
	clen := min(MaxChunk, e.Length-w.done)
	if w.n += n; int64(w.n) < clen {
		return nil
	}
	err := w.store(Extent{Offset: e.Offset + w.done, Length: clen, Kind: Data}, w.chunk[:clen])
	w.done, w.n = w.done+clen, 0
	if w.done == e.Length {
		w.pi, w.done = w.pi+1, 0
	}
	return err
}

// store compresses one chunk when that pays, writes its stored bytes and
// records its table entry.
func (w *Writer) store(x Extent, data []byte) error {
	e := entry{Extent: x, payloadOff: w.stats.BytesOut, stored: x.Length, crc: checksum(data)}
	stored := data
	if w.enc != nil {
		if c := w.enc.EncodeAll(data, w.cmp[:0]); pays(len(data), len(c)) {
			stored, e.enc, e.stored = c, Zstd, int64(len(c))
			w.stats.Compressed++
		}
	}
	if _, err := w.w.Write(stored); err != nil {
		return fmt.Errorf("delta: write extent at disk offset %d, object offset %d: %w", x.Offset, e.payloadOff, err)
	}
	if e.enc == Raw {
		w.objCRC = crcCombine(w.objCRC, e.crc, e.stored)
	} else {
		w.objCRC = crcUpdate(w.objCRC, stored)
	}
	w.stats.BytesOut += e.stored
	w.stats.BytesIn += x.Length
	w.addEntry(&e)
	return nil
}

// addEntry appends e to the in-memory table.
func (w *Writer) addEntry(e *entry) {
	w.table = appendEntry(w.table, e)
	w.stats.Extents++
}

// fail makes err sticky and returns it.
func (w *Writer) fail(err error) error {
	w.err = err
	return err
}

// Close checks that every data byte of the plan arrived, then writes the
// extent table and the footer. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.room() != nil {
		e := w.plan[w.pi]
		return w.fail(fmt.Errorf("delta: plan extent %d (offset %d, length %d) got only %d bytes: %w",
			w.pi, e.Offset, e.Length, w.done+int64(w.n), ErrInvalid))
	}
	if err := w.finish(); err != nil {
		return w.fail(err)
	}
	w.err = errWriterClosed
	w.chunk, w.cmp, w.table, w.enc = nil, nil, nil, nil // let the buffers go
	return nil
}

// finish writes the table and the footer.
func (w *Writer) finish() error {
	if w.stats.Extents != w.count {
		return fmt.Errorf("delta: wrote %d table entries, header says %d: %w", w.stats.Extents, w.count, ErrCorrupt)
	}
	ft := footer{tableOff: w.stats.BytesOut, count: w.count, dataBytes: w.stats.BytesIn, tableCRC: checksum(w.table)}
	if err := w.emit(w.table); err != nil {
		return err
	}
	if err := w.emit(marshalFooter(&ft)); err != nil {
		return err
	}
	var tail [8]byte
	binary.LittleEndian.PutUint64(tail[:], w.objCRC)
	if _, err := w.w.Write(tail[:]); err != nil {
		return fmt.Errorf("delta: write footer object crc: %w", err)
	}
	w.stats.BytesOut += int64(len(tail))
	return nil
}
