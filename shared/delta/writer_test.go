package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

func TestNewWriter_Plan_invalid(t *testing.T) {
	vs := int64(1 << 20)
	tests := []struct {
		name string
		hdr  func(h *Header)
		plan []Extent
	}{
		{"unaligned offset", nil, []Extent{{Offset: 100, Length: 512, Kind: Data}}},
		{"unaligned length", nil, []Extent{{Offset: 0, Length: 100, Kind: Data}}},
		{"zero length", nil, []Extent{{Offset: 0, Length: 0, Kind: Zero}}},
		{"negative offset", nil, []Extent{{Offset: -512, Length: 512, Kind: Zero}}},
		{"unknown kind", nil, []Extent{{Offset: 0, Length: 512, Kind: 3}}},
		{"overlap", nil, []Extent{{Offset: 0, Length: 1024, Kind: Data}, {Offset: 512, Length: 512, Kind: Zero}}},
		{"unsorted", nil, []Extent{{Offset: 4096, Length: 512, Kind: Data}, {Offset: 0, Length: 512, Kind: Zero}}},
		{"past virtual size", nil, []Extent{{Offset: vs - 512, Length: 1024, Kind: Zero}}},
		{"too many chunks", func(h *Header) { h.VirtualSize = MaxVirtualSize },
			[]Extent{{Offset: 0, Length: (MaxExtents + 1) * MaxChunk, Kind: Data}}},
		{"header kind", func(h *Header) { h.Kind = 0 }, nil},
		{"header cycles", func(h *Header) { h.PrevCycle = h.Cycle }, nil},
		{"header size", func(h *Header) { h.VirtualSize = 1000 }, nil},
		{"header size too large", func(h *Header) { h.VirtualSize = MaxVirtualSize + 512 }, nil},
		{"header log ids", func(h *Header) { h.LogIDs = make([]ID, MaxLogIDs+1) }, nil},
		{"header compression", func(h *Header) { h.Compression = 1 << 3 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := testHeader(vs)
			if tt.hdr != nil {
				tt.hdr(&hdr)
			}
			var buf bytes.Buffer
			var err error
			alloc := allocDuring(func() { _, err = NewWriter(&buf, hdr, tt.plan) })
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			if buf.Len() != 0 || alloc > 1<<20 {
				t.Fatalf("wrote %d bytes, allocated %d, before rejecting", buf.Len(), alloc)
			}
		})
	}
}

func TestWriter_Write_dataCountEnforced(t *testing.T) {
	plan := []Extent{{Offset: 0, Length: 1024, Kind: Data}, {Offset: 1024, Length: 512, Kind: Zero}}
	tests := []struct {
		name  string
		bytes int
		via   string
	}{
		{"too many via Write", 1025, "write"},
		{"too many via ReadFrom", 1025, "readfrom"},
		{"too few", 1023, "write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWriter(io.Discard, testHeader(1<<20), plan)
			if err != nil {
				t.Fatal(err)
			}
			d := make([]byte, tt.bytes)
			if tt.via == "write" {
				_, err = w.Write(d)
			} else {
				_, err = w.ReadFrom(bytes.NewReader(d))
			}
			if err == nil {
				err = w.Close()
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v, want ErrInvalid", err)
			}
			if err2 := w.Close(); !errors.Is(err2, ErrInvalid) {
				t.Fatalf("error after failure is %v, want it sticky", err2)
			}
		})
	}
}

// failWriter fails once more than limit bytes were written.
type failWriter struct{ limit, n int }

var errSink = errors.New("sink failed")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errSink
	}
	f.n += len(p)
	return len(p), nil
}

func TestWriter_Write_sinkErrorSticky(t *testing.T) {
	data := fillData(rand.New(rand.NewPCG(1, 2)), 8192, false) // stored raw
	total := HeaderSize + 8192 + EntrySize + FooterSize
	for _, limit := range []int{0, HeaderSize, HeaderSize + 4096, HeaderSize + 8192, total - FooterSize, total - 1} {
		plan := []Extent{{Offset: 0, Length: 8192, Kind: Data}}
		w, err := NewWriter(&failWriter{limit: limit}, testHeader(1<<20), plan)
		if err == nil {
			_, err = w.Write(data)
			if err == nil {
				err = w.Close()
			}
			if err2 := w.Close(); err != nil && !errors.Is(err2, errSink) {
				t.Fatalf("limit %d: second Close %v, want the sink error again", limit, err2)
			}
		}
		if !errors.Is(err, errSink) {
			t.Fatalf("limit %d: error %v, want the sink error", limit, err)
		}
	}
}

// patternReader yields n bytes of a compressible pattern without holding them.
type patternReader struct{ n int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n)]
	for i := range b {
		b[i] = byte(p.n-int64(i)) & 0x3f
	}
	p.n -= int64(len(b))
	return len(b), nil
}

func TestWriter_ReadFrom_memoryBounded(t *testing.T) {
	const size = 128 << 20
	plan := []Extent{{Offset: 0, Length: size, Kind: Data}}
	var err error
	var stats Stats
	alloc := allocDuring(func() {
		var w *Writer
		if w, err = NewWriter(io.Discard, testHeader(size), plan); err != nil {
			return
		}
		if _, err = w.ReadFrom(&patternReader{n: size}); err == nil {
			err = w.Close()
		}
		stats = w.Stats()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d MiB as %d bytes, allocating %d bytes", size>>20, stats.BytesOut, alloc)
	if stats.BytesIn != size || alloc > 24<<20 {
		t.Fatalf("bytes in %d, allocated %d for a %d-byte object", stats.BytesIn, alloc, size)
	}
}
