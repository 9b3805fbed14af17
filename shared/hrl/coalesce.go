package hrl

import (
	"fmt"
	"io"
	"iter"
	"math"
)

// Extent is a range of the virtual disk whose newest bytes are stored in
// one log file of the chain.
type Extent struct {
	// Offset and Length are the disk range.
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
	// Log is the index of the log in the order logs were added.
	Log int `json:"log"`
	// FileOffset is where the bytes start in that log file.
	FileOffset int64 `json:"file_offset"`
}

// Stats reports what coalescing saved.
type Stats struct {
	Logs           int   `json:"logs"`
	Entries        int64 `json:"entries"`
	Extents        int   `json:"extents"`
	BytesLogged    int64 `json:"bytes_logged"`
	BytesSurviving int64 `json:"bytes_surviving"`
	BytesSaved     int64 `json:"bytes_saved"`
}

// Coalescer reduces the writes of one or more logs of a disk, taken in
// chain order, to the minimal set of non-overlapping extents that hold the
// newest bytes: a later write replaces earlier ones byte for byte. It keeps
// references into the log files, not data, so its memory grows with the
// number of surviving extents (24 bytes each in chunks that are at least
// half full: under 50 bytes per extent), not with the bytes logged.
type Coalescer struct {
	logs    []*Log
	tree    extentTree
	entries int64
	logged  int64
	err     error
}

// NewCoalescer returns an empty Coalescer.
func NewCoalescer() *Coalescer { return &Coalescer{tree: newExtentTree()} }

// Add replays the entries of l, the next log of the chain, in replay order.
// l's PreviousUniqueId must be the UniqueId of the log added before it (C1)
// and no UniqueId may repeat (C2). After an error the Coalescer is unusable.
func (c *Coalescer) Add(l *Log) error {
	if c.err != nil {
		return c.err
	}
	if err := c.checkChain(l); err != nil {
		return c.fail(err)
	}
	if len(c.logs) >= math.MaxUint32 {
		return c.fail(fmt.Errorf("%s: more than %d logs: %w", l.Name(), uint32(math.MaxUint32), ErrLimit))
	}
	idx := uint32(len(c.logs))
	for e, err := range l.Entries() {
		if err != nil {
			return c.fail(err)
		}
		c.tree.insert(e.DiskOffset(), e.DataLength, idx, e.FileOffset)
		c.entries++
		c.logged += e.Length()
	}
	c.logs = append(c.logs, l)
	return nil
}

func (c *Coalescer) checkChain(l *Log) error {
	h := l.Header()
	for _, prev := range c.logs {
		if prev.Header().UniqueID == h.UniqueID {
			return fmt.Errorf("%s: UniqueId %s already added from %s: %w", l.Name(), h.UniqueID, prev.Name(), ErrDuplicateLog)
		}
	}
	if len(c.logs) == 0 {
		return nil
	}
	prev := c.logs[len(c.logs)-1]
	if want := prev.Header().UniqueID; h.PreviousUniqueID != want {
		return fmt.Errorf("%s: header field PreviousUniqueId %s is not the UniqueId %s of %s: %w",
			l.Name(), h.PreviousUniqueID, want, prev.Name(), ErrLogChain)
	}
	return nil
}

func (c *Coalescer) fail(err error) error {
	c.err = err
	return err
}

// Len is the number of surviving extents.
func (c *Coalescer) Len() int { return c.tree.count }

// Extents yields the surviving extents in disk order.
func (c *Coalescer) Extents() iter.Seq[Extent] {
	return func(yield func(Extent) bool) {
		c.tree.walk(func(n node) bool {
			return yield(Extent{Offset: n.off, Length: int64(n.n), Log: int(n.file), FileOffset: n.foff})
		})
	}
}

// Stats counts entries, extents and bytes.
func (c *Coalescer) Stats() Stats {
	s := Stats{Logs: len(c.logs), Entries: c.entries, Extents: c.tree.count, BytesLogged: c.logged}
	for e := range c.Extents() {
		s.BytesSurviving += e.Length
	}
	s.BytesSaved = s.BytesLogged - s.BytesSurviving
	return s
}

// Reader returns a reader over the bytes of e.
func (c *Coalescer) Reader(e Extent) *io.SectionReader {
	return io.NewSectionReader(c.logs[e.Log].r, e.FileOffset, e.Length)
}

// ApplyTo copies the surviving bytes, in disk order, to dst at their disk
// offsets and returns the number of bytes copied.
func (c *Coalescer) ApplyTo(dst io.WriterAt) (int64, error) {
	buf := make([]byte, 1<<20)
	var total int64
	for e := range c.Extents() {
		n, err := copyAt(dst, e.Offset, c.Reader(e), buf)
		total += n
		if err == nil && n != e.Length {
			err = fmt.Errorf("copied %d bytes: %w", n, ErrTruncated)
		}
		if err != nil {
			return total, fmt.Errorf("apply extent [%d, +%d) from %s: %w", e.Offset, e.Length, c.logs[e.Log].Name(), err)
		}
	}
	return total, nil
}

// copyAt copies src to dst starting at off.
func copyAt(dst io.WriterAt, off int64, src io.Reader, buf []byte) (int64, error) {
	w := io.NewOffsetWriter(dst, off)
	return io.CopyBuffer(w, src, buf)
}
