package hrl

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestWriter_crash_rejectedAsNotClosed(t *testing.T) {
	tests := []struct {
		name   string
		writes int
		flush  bool
	}{
		{"header only", 0, false},
		{"data buffered", 3, false},
		{"blocks sealed", 300, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &memFile{}
			w, err := NewWriter(f, testWriterOptions(0))
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.writes {
				if _, err := w.WriteAt(bytes.Repeat([]byte{byte(i)}, 4096), int64(i)*4096); err != nil {
					t.Fatal(err)
				}
			}
			if tt.flush {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			// The process dies here: no Close.
			_, err = NewReader(f, int64(len(f.b)), Options{})
			if !errors.Is(err, ErrNotClosed) {
				t.Fatalf("err = %v, want ErrNotClosed", err)
			}
		})
	}
}

func TestWriter_Close_tornHeaderRejected(t *testing.T) {
	f := &memFile{}
	w, err := NewWriter(f, testWriterOptions(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 512), 0); err != nil {
		t.Fatal(err)
	}
	open := append([]byte(nil), f.b[:HeaderSize]...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{offHeaderChecksum + 2, offEOL + 1, offEOL + 8, offTotalEntries} {
		torn := append(append([]byte(nil), f.b[:cut]...), open[cut:]...)
		torn = append(torn, f.b[HeaderSize:]...)
		if _, err := NewReader(&memFile{b: torn}, int64(len(torn)), Options{}); !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrNotClosed) {
			t.Errorf("torn at %d: err = %v, want ErrChecksum or ErrNotClosed", cut, err)
		}
	}
}

func TestWriter_WriteAt_invalid(t *testing.T) {
	w, err := NewWriter(&memFile{}, testWriterOptions(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 512), -512); !errors.Is(err, ErrInvalidWrite) {
		t.Errorf("negative offset: err = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 512), 0); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("after close: err = %v", err)
	}
}

func TestNewWriter_options_invalid(t *testing.T) {
	for _, ms := range []uint32{32, 100, MaxMetadataSize + 32} {
		o := testWriterOptions(0)
		o.MetadataSize = ms
		if _, err := NewWriter(&memFile{}, o); !errors.Is(err, ErrOptions) {
			t.Errorf("MetadataSize %d: err = %v, want ErrOptions", ms, err)
		}
	}
}

func TestCreate_Open_fileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disk.hrl")
	o := DefaultWriterOptions()
	o.MetadataSize = 512
	o.MaxBlockData = 64 << 10
	o.DataWriteGUID = GUID{0xaa}
	w, err := Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("hvmigrate"), 4096)[:32768]
	for i := range 10 {
		if _, err := w.WriteAt(payload, int64(i)*8192); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, o); !errors.Is(err, os.ErrExist) {
		t.Errorf("Create over an existing log: err = %v, want ErrExist", err)
	}
	l, err := Open(path, Options{ExpectedDataWriteGUID: GUID{0xaa}, DiskSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Verify(); err != nil {
		t.Fatal(err)
	}
	if got := len(l.Blocks()); got != 1+5 {
		t.Errorf("%d blocks, want 6 (leading empty + one per 64 KiB)", got)
	}
	if l.Header().UniqueID != w.UniqueID() || w.UniqueID().IsZero() {
		t.Errorf("UniqueId %s, writer's %s", l.Header().UniqueID, w.UniqueID())
	}
}
