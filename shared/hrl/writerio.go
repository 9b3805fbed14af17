package hrl

import "fmt"

// appendData appends p at the end of the log through the buffer; writes at
// least as large as the buffer bypass it.
func (w *Writer) appendData(p []byte) error {
	if len(w.buf)+len(p) > cap(w.buf) {
		if err := w.flushBuffer(); err != nil {
			return err
		}
	}
	if len(p) >= cap(w.buf) {
		if err := w.writeRaw(p, w.end); err != nil {
			return err
		}
		w.end += int64(len(p))
		w.bufOff = w.end
		return nil
	}
	w.buf = append(w.buf, p...)
	w.end += int64(len(p))
	return nil
}

// flushBuffer writes the buffered bytes to the destination.
func (w *Writer) flushBuffer() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.writeRaw(w.buf, w.bufOff); err != nil {
		return err
	}
	w.bufOff += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

func (w *Writer) writeRaw(p []byte, off int64) error {
	n, err := w.dst.WriteAt(p, off)
	if err == nil && n != len(p) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(p))
	}
	if err != nil {
		return fmt.Errorf("write hrl at offset %d: %w", off, err)
	}
	return nil
}

// syncer is what durability needs from the destination.
type syncer interface{ Sync() error }

func (w *Writer) sync() error {
	s, ok := w.dst.(syncer)
	if !w.opts.Sync || !ok {
		return nil
	}
	if err := s.Sync(); err != nil {
		return fmt.Errorf("sync hrl: %w", err)
	}
	return nil
}
