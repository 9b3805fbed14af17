package vdisk

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sparseFile writes a file of size bytes that is zero except for the given
// pieces, leaving the rest as holes, and returns its path and content.
func sparseFile(t *testing.T, size int64, pieces map[int64][]byte) (string, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := make([]byte, size)
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off, b := range pieces {
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
		copy(want[off:], b)
	}
	return p, want
}

// tile checks that extents cover [0, size) in order and that zero extents
// hold only zeros; it returns the data bytes.
func tile(t *testing.T, img Image, want []byte) int64 {
	t.Helper()
	var next, data int64
	for e, err := range img.Extents() {
		if err != nil {
			t.Fatal(err)
		}
		if e.Offset != next || e.Length <= 0 {
			t.Fatalf("extent %+v, expected one at %d", e, next)
		}
		if e.Kind == KindZero && bytes.ContainsFunc(want[e.Offset:e.End()], func(r rune) bool { return r != 0 }) {
			t.Fatalf("zero extent %+v holds data", e)
		}
		if e.Kind == KindData {
			data += e.Length
		}
		next = e.End()
	}
	if next != img.Size() {
		t.Fatalf("extents end at %d, size %d", next, img.Size())
	}
	return data
}

func TestRaw_ReadAt_sparseFile(t *testing.T) {
	tests := []struct {
		name   string
		size   int64
		pieces map[int64][]byte
	}{
		{"empty", 0, nil},
		{"all_hole", 8 << 20, nil},
		{"three_pieces", 10 << 20, map[int64][]byte{0: bytes.Repeat([]byte{1}, 4096), 5 << 20: bytes.Repeat([]byte{2}, 8192), 10<<20 - 512: bytes.Repeat([]byte{3}, 512)}},
		{"odd_size", 3<<20 + 100, map[int64][]byte{1 << 20: []byte("hello"), 3 << 20: bytes.Repeat([]byte{9}, 100)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, want := sparseFile(t, tt.size, tt.pieces)
			r, err := OpenRaw(p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Size() != tt.size || r.Describe().Format != "raw" || r.LogicalSectorSize() != 512 {
				t.Fatalf("Size %d Describe %+v", r.Size(), r.Describe())
			}
			got := make([]byte, tt.size)
			if n, err := r.ReadAt(got, 0); n != len(got) || (err != nil && !errors.Is(err, io.EOF)) {
				t.Fatalf("ReadAt = %d, %v", n, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("content differs")
			}
			data := tile(t, r, want)
			if holes := fsReportsHoles(t, p, tt.size); holes && tt.size > 0 && data >= tt.size {
				t.Fatalf("file system reports holes but extents show %d of %d bytes as data", data, tt.size)
			}
		})
	}
}

func TestRaw_ReadAt_bounds(t *testing.T) {
	p, _ := sparseFile(t, 1000, map[int64][]byte{990: bytes.Repeat([]byte{5}, 10)})
	r, err := OpenRaw(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantErr error
	}{
		{"inside", 0, 100, 100, nil},
		{"straddling_end", 995, 10, 5, io.EOF},
		{"at_end", 1000, 10, 0, io.EOF},
		{"beyond_end", 5000, 10, 0, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := r.ReadAt(make([]byte, tt.n), tt.off)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadAt = %d, %v; want %d, %v", n, err, tt.wantN, tt.wantErr)
			}
		})
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestClampRange_progress(t *testing.T) {
	tests := []struct {
		name                  string
		off, start, end, size int64
		wantStart, wantEnd    int64
	}{
		{"normal", 0, 10, 20, 100, 10, 20},
		{"start_before_off", 50, 10, 60, 100, 50, 60},
		{"end_beyond_size", 0, 10, 200, 100, 10, 100},
		{"empty_range_becomes_rest", 0, 30, 30, 100, 30, 100},
		{"no_data", 40, 100, 100, 100, 100, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := clampRange(tt.off, tt.start, tt.end, tt.size)
			if s != tt.wantStart || e != tt.wantEnd {
				t.Fatalf("clampRange = %d, %d; want %d, %d", s, e, tt.wantStart, tt.wantEnd)
			}
		})
	}
}
