package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"hvmigrate/shared/hrl"
)

const diskSize = 1 << 40 // 1 TiB virtual disk: random offsets rarely overlap

// gen writes a log of random writes between -min and -max bytes (sector
// multiples) until the log holds -size bytes of data.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	out := fs.String("o", "", "output file")
	size := fs.Int64("size", 1<<30, "bytes of data to log")
	lo := fs.Int("min", 4096, "smallest write")
	hi := fs.Int("max", 1<<20, "largest write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o := hrl.DefaultWriterOptions()
	o.Sync = false
	n, err := writeRandom(*out, o, *size, -1, *lo, *hi)
	if err != nil {
		return err
	}
	fmt.Printf("entries=%d\n", n)
	return nil
}

// writeRandom logs random writes until maxBytes of data or maxWrites
// writes (negative: unlimited) and returns the number of writes.
func writeRandom(path string, o hrl.WriterOptions, maxBytes, maxWrites int64, lo, hi int) (int64, error) {
	w, err := hrl.Create(path, o)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, hi)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	var logged, n int64
	for logged < maxBytes && (maxWrites < 0 || n < maxWrites) {
		ln := (lo + r.IntN(hi-lo+1)) &^ 511
		off := r.Int64N(diskSize/512-int64(ln/512)) * 512
		if _, err := w.WriteAt(buf[:ln], off); err != nil {
			w.Close()
			return n, err
		}
		logged += int64(ln)
		n++
	}
	return n, w.Close()
}

// parse opens, verifies and coalesces a log and prints the elapsed time.
func parse(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: hrlbench parse FILE")
	}
	start := time.Now()
	l, err := hrl.Open(args[0], hrl.Options{DiskSize: diskSize})
	if err != nil {
		return err
	}
	defer l.Close()
	if err := l.Verify(); err != nil {
		return err
	}
	c := hrl.NewCoalescer()
	if err := c.Add(l); err != nil {
		return err
	}
	s := c.Stats()
	fmt.Printf("seconds=%.4f bytes=%d entries=%d extents=%d\n", time.Since(start).Seconds(), l.BytesLogged(), s.Entries, s.Extents)
	return nil
}

// mem logs N small writes, coalesces them and reports the heap the
// coalescer retains per surviving extent.
func mem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ContinueOnError)
	dir := fs.String("dir", os.TempDir(), "scratch directory")
	writes := fs.Int64("writes", 1_000_000, "number of writes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*dir, "small.hrl")
	o := hrl.DefaultWriterOptions()
	o.Sync = false
	if _, err := writeRandom(path, o, 1<<62, *writes, 512, 4096); err != nil {
		return err
	}
	defer os.Remove(path)
	l, err := hrl.Open(path, hrl.Options{DiskSize: diskSize})
	if err != nil {
		return err
	}
	defer l.Close()
	before := heap()
	start := time.Now()
	c := hrl.NewCoalescer()
	if err := c.Add(l); err != nil {
		return err
	}
	elapsed := time.Since(start)
	after := heap()
	fmt.Printf("extents=%d bytes_per_extent=%.1f seconds=%.3f\n", c.Len(), float64(after-before)/float64(c.Len()), elapsed.Seconds())
	runtime.KeepAlive(c)
	return nil
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// write logs -mb MiB of 64 KiB writes with fsync on every sealed block and
// at close, and prints the throughput.
func write(args []string) error {
	fs := flag.NewFlagSet("write", flag.ContinueOnError)
	dir := fs.String("dir", os.TempDir(), "scratch directory")
	mb := fs.Int64("mb", 256, "MiB to log")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*dir, "write.hrl")
	defer os.Remove(path)
	start := time.Now()
	if _, err := writeRandom(path, hrl.DefaultWriterOptions(), *mb<<20, -1, 64<<10, 64<<10); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("seconds=%.4f mb_per_s=%.1f\n", secs, float64(*mb)/secs)
	return nil
}
