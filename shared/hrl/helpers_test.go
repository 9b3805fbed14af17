package hrl

import (
	"io"
	"math/rand/v2"
	"time"
)

// memFile is an in-memory file for writer and reader tests.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// tb is the part of testing.TB (and rapid.T) the helpers need.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// write is one logged guest write.
type write struct {
	off  int64
	data []byte
}

// fixedClock returns a clock that advances one second per call.
func fixedClock() func() time.Time {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

// testWriterOptions are deterministic writer options.
func testWriterOptions(perBlock int) WriterOptions {
	o := DefaultWriterOptions()
	o.EntriesPerBlock = perBlock
	o.Now = fixedClock()
	o.Sync = false
	return o
}

// writeLog writes ws with opts into a new in-memory log. flushEvery > 0
// forces an extra Flush (which may seal an empty block) every flushEvery
// writes.
func writeLog(t tb, ws []write, opts WriterOptions, flushEvery int) *memFile {
	t.Helper()
	f := &memFile{}
	w, err := NewWriter(f, opts)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for i, wr := range ws {
		if _, err := w.WriteAt(wr.data, wr.off); err != nil {
			t.Fatalf("WriteAt %d: %v", i, err)
		}
		if flushEvery > 0 && i%flushEvery == flushEvery-1 {
			if err := w.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return f
}

// randomWrites returns n writes of 512-byte multiples inside a disk of
// diskSize bytes, with heavy overlap.
func randomWrites(r *rand.Rand, n int, diskSize int64) []write {
	ws := make([]write, n)
	sectors := diskSize / 512
	for i := range ws {
		ln := 1 + r.Int64N(min(64, sectors))
		off := r.Int64N(sectors-ln+1) * 512
		data := make([]byte, ln*512)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		ws[i] = write{off: off, data: data}
	}
	return ws
}

// openMem opens a log held in memory.
func openMem(t tb, f *memFile, opts Options) *Log {
	t.Helper()
	l, err := NewReader(f, int64(len(f.b)), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return l
}

// replay applies every entry of l, in replay order, to disk.
func replay(t tb, l *Log, disk []byte) {
	t.Helper()
	for e, err := range l.Entries() {
		if err != nil {
			t.Fatalf("entries: %v", err)
		}
		if _, err := l.Data(e).ReadAt(disk[e.DiskOffset():e.DiskOffset()+e.Length()], 0); err != nil && e.Length() > 0 {
			t.Fatalf("read data of entry %d/%d: %v", e.Block, e.Slot, err)
		}
	}
}
