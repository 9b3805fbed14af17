package vhdx

import (
	"fmt"
	"iter"
	"os"
	"sync"

	"hvmigrate/shared/vdisk"
)

var _ vdisk.Image = (*Writer)(nil)

// maxWriterBAT bounds the BAT a Writer keeps in memory.
const maxWriterBAT = 256 * miB

// Writer writes a dynamic, fixed or differencing VHDX file. Metadata
// changes go through the file's log (see doc.go). It is also a vdisk.Image
// reading through the parent chain. Methods are safe for concurrent use.
type Writer struct {
	mu      sync.RWMutex
	l       *layer
	closed  bool
	bat     []byte // the BAT as on disk, entries*8 bytes
	end     int64  // where the next block goes, 1 MiB aligned
	logSeq  uint64
	touched bool       // DataWriteGuid replaced since open
	nextDWG vdisk.GUID // DataWriteGuid to use on first write; zero: random
}

// OpenWriter opens an existing VHDX for writing. A log left by a crash is
// replayed into the file first.
func OpenWriter(path string) (*Writer, error) {
	return openWriter(path, vdisk.GUID{})
}

// openWriter opens a Writer that will set dataWrite on its first write.
func openWriter(path string, dataWrite vdisk.GUID) (*Writer, error) {
	if err := replayIntoFile(path); err != nil {
		return nil, err
	}
	l, err := openLayer(path, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	w := &Writer{l: l, nextDWG: dataWrite}
	if err := w.init(); err != nil {
		l.close()
		return nil, withPath(path, err)
	}
	return w, nil
}

// init opens the parent chain, loads the BAT and starts a log session:
// a new FileWriteGuid and LogGuid in a new header.
func (w *Writer) init() error {
	l := w.l
	if err := openChain(l); err != nil {
		return err
	}
	n := l.geo.entries * 8
	if n > maxWriterBAT {
		return errf(ErrUnsupported, "BAT of %d bytes too large to write", n)
	}
	w.bat = make([]byte, n)
	if _, err := l.src.ReadAt(w.bat, l.bat.off); err != nil {
		return err
	}
	w.end = alignUp(l.src.phys, miB)
	h := l.hdr
	var err error
	if h.fileWrite, err = newGUID(); err != nil {
		return err
	}
	if h.logGUID, err = newGUID(); err != nil {
		return err
	}
	return w.writeHeader(h)
}

// writeHeader writes h with the next sequence number into the slot that is
// not current and syncs it.
func (w *Writer) writeHeader(h header) error {
	h.seq = w.l.hdr.seq + 1
	slot := 1 - w.l.slot
	if _, err := w.l.src.f.WriteAt(h.encode(), []int64{header1Off, header2Off}[slot]); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	if err := w.l.src.f.Sync(); err != nil {
		return fmt.Errorf("sync header: %w", err)
	}
	w.l.hdr, w.l.slot = h, slot
	return nil
}

// Size is the virtual size in bytes.
func (w *Writer) Size() int64 { return w.l.p.size }

// LogicalSectorSize is 512 or 4096.
func (w *Writer) LogicalSectorSize() int { return int(w.l.p.logical) }

// PhysicalSectorSize is 512 or 4096.
func (w *Writer) PhysicalSectorSize() int { return int(w.l.p.physical) }

// ReadAt reads the virtual disk through the chain.
func (w *Writer) ReadAt(p []byte, off int64) (int, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return 0, ErrClosed
	}
	return readImage(w.l, p, off)
}

// Extents yields the disk's extents; the Writer is locked for writing
// until the iteration ends.
func (w *Writer) Extents() iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		w.mu.RLock()
		defer w.mu.RUnlock()
		if w.closed {
			yield(vdisk.Extent{}, ErrClosed)
			return
		}
		layerExtents(w.l)(yield)
	}
}

// Identity returns the identifiers in the file's current header.
func (w *Writer) Identity() vdisk.Identity {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.l.identity()
}

// Describe tells the format, layout and parent chain.
func (w *Writer) Describe() vdisk.Description {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.l.describe()
}

// Flush makes every completed WriteAt durable.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	return w.l.src.f.Sync()
}

// Close flushes, ends the log session (LogGuid cleared) and closes the
// chain.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	w.closed = true
	err := w.l.src.f.Sync()
	if err == nil {
		h := w.l.hdr
		h.logGUID = vdisk.GUID{}
		err = w.writeHeader(h)
	}
	if cerr := w.l.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vhdx: close %s: %w", w.l.path, err)
	}
	return nil
}
