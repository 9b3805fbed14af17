package vhdx

import (
	"fmt"
)

// changes collects the metadata sectors (4 KiB, by file offset) one write
// modifies; they reach the file through the log.
type changes map[int64][]byte

// WriteAt writes p at virtual offset off; both must be multiples of the
// logical sector size and the range inside the disk. It returns once the
// data is written and every metadata change it needed is in the file
// through the log (use Flush for durability of in-place data).
func (w *Writer) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	ss := w.l.p.logical
	if off < 0 || off%ss != 0 || int64(len(p))%ss != 0 || off > w.l.p.size-int64(len(p)) {
		return 0, fmt.Errorf("vhdx: %s: write [%d, +%d): %w", w.l.path, off, len(p), ErrAlignment)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := w.touch(); err != nil {
		return 0, withPath(w.l.path, err)
	}
	ch := changes{}
	bs := w.l.geo.blockSize
	for done := int64(0); done < int64(len(p)); {
		o := off + done
		n := min(int64(len(p))-done, bs-o%bs)
		if err := w.writeBlock(p[done:done+n], o, ch); err != nil {
			// Keep the file in step with the in-memory BAT for the blocks
			// already written.
			if cerr := w.commit(ch); cerr != nil {
				err = cerr
			}
			return int(done), withPath(w.l.path, err)
		}
		done += n
	}
	if err := w.commit(ch); err != nil {
		return 0, withPath(w.l.path, err)
	}
	return len(p), nil
}

// Touch starts a write session without writing data: the header gets the
// session's new DataWriteGuid now rather than at the first write, so a
// caller can read the identity its next writes will carry.
func (w *Writer) Touch() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.touch(); err != nil {
		return withPath(w.l.path, err)
	}
	return nil
}

// touch replaces the DataWriteGuid before the first data change.
func (w *Writer) touch() error {
	if w.touched {
		return nil
	}
	h := w.l.hdr
	h.dataWrite = w.nextDWG
	if h.dataWrite.IsZero() {
		var err error
		if h.dataWrite, err = newGUID(); err != nil {
			return err
		}
	}
	if err := w.writeHeader(h); err != nil {
		return err
	}
	w.touched = true
	return nil
}

// entry and setEntry read and change the in-memory BAT, recording the
// BAT sector to log.
func (w *Writer) entry(i int64) uint64 { return u64(w.bat[i*8:]) }

func (w *Writer) setEntry(i int64, e uint64, ch changes) {
	put64(w.bat[i*8:], e)
	sec := (i * 8) &^ (logSector - 1)
	b := make([]byte, logSector)
	copy(b, w.bat[sec:min(sec+logSector, int64(len(w.bat)))])
	ch[w.l.bat.off+sec] = b
}

// writeBlock writes a range that lies inside one payload block.
func (w *Writer) writeBlock(p []byte, off int64, ch changes) error {
	g := w.l.geo
	i := g.payloadIndex(off / g.blockSize)
	in := off % g.blockSize
	e := w.entry(i)
	switch st := entryState(e); {
	case st == stFull || st == stPartial:
		if err := w.l.checkBlock(e, i, g.blockSize); err != nil {
			return err
		}
	case st == stNotPresent && g.diff && int64(len(p)) < g.blockSize:
		blk, err := w.allocate(g.blockSize)
		if err != nil {
			return err
		}
		e = makeEntry(stPartial, blk)
		w.setEntry(i, e, ch)
	default: // a new block whose unwritten part reads as zeros
		blk, err := w.allocate(g.blockSize)
		if err != nil {
			return err
		}
		e = makeEntry(stFull, blk)
		w.setEntry(i, e, ch)
	}
	if _, err := w.l.src.f.WriteAt(p, entryOffset(e)+in); err != nil {
		return fmt.Errorf("write block: %w", err)
	}
	if entryState(e) == stPartial {
		return w.setBits(off/g.sector, int64(len(p))/g.sector, ch)
	}
	return nil
}

// allocate extends the file by n bytes and returns the new space's offset.
func (w *Writer) allocate(n int64) (int64, error) {
	off := w.end
	if off+n > maxFileSize {
		return 0, errf(ErrUnsupported, "file would exceed %d bytes", maxFileSize)
	}
	if err := w.l.src.f.Truncate(off + n); err != nil {
		return 0, fmt.Errorf("extend file: %w", err)
	}
	w.end, w.l.src.phys = off+n, off+n
	return off, nil
}

// setBits sets the sector bitmap bits of sectors [s, s+n), allocating the
// chunk's bitmap block if needed.
func (w *Writer) setBits(s, n int64, ch changes) error {
	g := w.l.geo
	i := g.sbIndex(s >> 23)
	e := w.entry(i)
	if entryState(e) != sbPresent {
		off, err := w.allocate(sbBlockSize)
		if err != nil {
			return err
		}
		e = makeEntry(sbPresent, off)
		w.setEntry(i, e, ch)
	}
	// Only sectors whose bits change are logged: rewriting sectors that are
	// already present in the child costs no metadata commit.
	read := map[int64][]byte{}
	for k := s; k < s+n; k++ {
		pos := entryOffset(e) + g.sbByteOffset(k)
		sec := pos &^ (logSector - 1)
		b, ok := ch[sec]
		if !ok {
			if b, ok = read[sec]; !ok {
				var err error
				if b, err = w.l.src.readN(sec, logSector); err != nil {
					return err
				}
				read[sec] = b
			}
		}
		bit := byte(1) << (k % 8)
		if b[pos-sec]&bit != 0 {
			continue
		}
		b[pos-sec] |= bit
		ch[sec] = b
	}
	return nil
}
