package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// benchSegment is the size of one data extent in the benchmark plan; the
// plan repeats it to make 1 GiB of data per operation.
const benchSegment = 64 << 20

// benchInput returns one segment alternating compressible and random
// 4 MiB runs, and a 1 GiB plan of data extents separated by zero extents.
func benchInput() ([]byte, testCase) {
	r := rand.New(rand.NewPCG(7, 7))
	src := make([]byte, 0, benchSegment)
	for i := 0; len(src) < benchSegment; i++ {
		src = append(src, fillData(r, MaxChunk, i%2 == 0)...)
	}
	tc := testCase{hdr: testHeader(4 << 30)}
	for i := range int64(1<<30) / benchSegment {
		off := i * (benchSegment + 1<<20)
		tc.plan = append(tc.plan, Extent{Offset: off, Length: benchSegment, Kind: Data},
			Extent{Offset: off + benchSegment, Length: 1 << 20, Kind: Zero})
		tc.data = append(tc.data, src, nil)
	}
	return src, tc
}

// writeBench writes tc to dst, one ReadFrom per data extent.
func writeBench(b *testing.B, dst io.Writer, tc *testCase) Stats {
	w, err := NewWriter(dst, tc.hdr, tc.plan)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range tc.data {
		if d != nil {
			if _, err := w.ReadFrom(bytes.NewReader(d)); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return w.Stats()
}

func BenchmarkWriter_mixed1GiB(b *testing.B) {
	_, tc := benchInput()
	for _, comp := range []Compression{CompressionZstd, 0} {
		name := map[Compression]string{CompressionZstd: "zstd", 0: "raw"}[comp]
		b.Run(name, func(b *testing.B) {
			tc.hdr.Compression = comp
			b.SetBytes(1 << 30)
			b.ReportAllocs()
			var s Stats
			cpu := startCPU()
			for b.Loop() {
				s = writeBench(b, io.Discard, &tc)
			}
			cpu.report(b)
			b.ReportMetric(float64(s.BytesOut)/float64(s.BytesIn), "out/in")
		})
	}
}

func BenchmarkReader_mixed1GiB(b *testing.B) {
	_, tc := benchInput()
	var obj bytes.Buffer
	writeBench(b, &obj, &tc)
	ra := bytes.NewReader(obj.Bytes())
	b.SetBytes(1 << 30)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if err := readBench(ra, int64(obj.Len())); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

func BenchmarkVerify_mixed1GiB(b *testing.B) {
	_, tc := benchInput()
	var obj bytes.Buffer
	writeBench(b, &obj, &tc)
	ra := bytes.NewReader(obj.Bytes())
	b.SetBytes(1 << 30)
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if err := Verify(ra, int64(obj.Len())); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// cpuMeter measures process CPU time across a benchmark loop, which on a
// busy machine says more than wall time.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	d, ok := processCPU()
	return cpuMeter{start: d, ok: ok}
}

// report adds CPU seconds per GiB processed (one operation is 1 GiB).
func (c cpuMeter) report(b *testing.B) {
	if end, ok := processCPU(); ok && c.ok {
		b.ReportMetric((end-c.start).Seconds()/float64(b.N), "cpu-s/GiB")
	}
}

// readBench opens an object and reads every data extent.
func readBench(ra io.ReaderAt, size int64) error {
	r, err := NewReader(ra, size)
	if err != nil {
		return err
	}
	it := r.Extents()
	defer it.Close()
	for {
		if _, err := it.Next(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := it.Data(); err != nil {
			return err
		}
	}
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int64{4 << 10, MaxChunk} {
		p := fillData(rand.New(rand.NewPCG(1, 1)), n, false)
		b.Run(strconv.FormatInt(n>>10, 10)+"KiB", func(b *testing.B) {
			b.SetBytes(n)
			b.ReportAllocs()
			for b.Loop() {
				checksum(p)
			}
		})
	}
}
