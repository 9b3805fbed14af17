package hrl

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
)

func BenchmarkChecksum(b *testing.B) {
	buf := make([]byte, 256<<10)
	for i := range buf {
		buf[i] = byte(i * 13)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Checksum(buf, -1)
	}
}

// benchLog writes a log of size bytes of random writes between lo and hi
// bytes to a temporary file.
func benchLog(b *testing.B, size int64, lo, hi int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.hrl")
	o := DefaultWriterOptions()
	o.Sync = false
	w, err := Create(path, o)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	data := make([]byte, hi)
	for logged := int64(0); logged < size; {
		n := (lo + r.IntN(hi-lo+1)) &^ 511
		if _, err := w.WriteAt(data[:n], r.Int64N(1<<27)*512); err != nil {
			b.Fatal(err)
		}
		logged += int64(n)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkOpenVerifyCoalesce measures the agent's per-log work on 64 MiB
// of 4 KiB to 1 MiB writes (bench/hrl.sh runs the 1 GiB version).
func BenchmarkOpenVerifyCoalesce(b *testing.B) {
	path := benchLog(b, 64<<20, 4096, 1<<20)
	b.SetBytes(64 << 20)
	for b.Loop() {
		l, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Verify(); err != nil {
			b.Fatal(err)
		}
		c := NewCoalescer()
		if err := c.Add(l); err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}

// BenchmarkCoalesce_smallWrites measures coalescing 100,000 small writes.
func BenchmarkCoalesce_smallWrites(b *testing.B) {
	path := benchLog(b, 100_000*2048, 512, 4096)
	l, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	for b.Loop() {
		c := NewCoalescer()
		if err := c.Add(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriter_64KiB measures logging 64 KiB writes with fsync per block.
func BenchmarkWriter_64KiB(b *testing.B) {
	w, err := Create(filepath.Join(b.TempDir(), "w.hrl"), DefaultWriterOptions())
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	i := int64(0)
	for b.Loop() {
		if _, err := w.WriteAt(data, (i%1024)*int64(len(data))); err != nil {
			b.Fatal(err)
		}
		i++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
