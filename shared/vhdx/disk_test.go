package vhdx

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
)

func TestDisk_ReadAt_concurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.vhdx")
	w, err := Create(path, CreateOptions{Size: 16 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	o := &oracle{b: make([]byte, w.Size())}
	randomWrites(t, w, o, rand.New(rand.NewPCG(9, 9)), 20)
	w.Close()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 50 {
				off := rng.Int64N(d.Size())
				n := rng.Int64N(min(d.Size()-off, 3<<20)) + 1
				buf := make([]byte, n)
				if _, err := d.ReadAt(buf, off); err != nil && err != io.EOF {
					errs <- err
					return
				}
				if !bytes.Equal(buf, o.b[off:off+n]) {
					errs <- errors.New("concurrent read differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestDisk_ReadAt_bounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.vhdx")
	w, err := Create(path, CreateOptions{Size: 2 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantEOF bool
		wantErr bool
	}{
		{"inside", 0, 512, 512, false, false},
		{"unaligned_inside", 3, 1000, 1000, false, false},
		{"crosses_end", 2<<20 - 100, 200, 100, true, false},
		{"at_end", 2 << 20, 10, 0, true, false},
		{"past_end", 3 << 20, 10, 0, true, false},
		{"negative", -1, 10, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := d.ReadAt(make([]byte, tt.n), tt.off)
			if n != tt.wantN || (err == io.EOF) != tt.wantEOF || (err != nil && err != io.EOF) != tt.wantErr {
				t.Fatalf("ReadAt(%d, %d) = %d, %v", tt.off, tt.n, n, err)
			}
		})
	}
}

func TestDisk_Describe_qemuDynamic(t *testing.T) {
	fx := newFixture(t)
	d, err := Open(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	desc := d.Describe()
	if desc.Format != "vhdx" || desc.Subformat != "dynamic" || desc.BlockSize != 1<<20 || desc.Parent != nil || desc.Path != fx.path {
		t.Fatalf("Describe = %+v", desc)
	}
	if d.Identity().DataWriteGUID.IsZero() || d.Identity().DiskID.IsZero() {
		t.Fatalf("Identity = %+v", d.Identity())
	}
}

func TestGUID_mixedEndian_canonical(t *testing.T) {
	// The digest's example: 2DC27766-F623-4200-9D64-115E9BFD4A08 on disk.
	disk := []byte{0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08}
	g := getGUID(disk)
	if g.String() != guidBATRegion {
		t.Fatalf("getGUID = %s", g)
	}
	back := make([]byte, 16)
	putGUID(back, g)
	if !bytes.Equal(back, disk) {
		t.Fatalf("putGUID = %x", back)
	}
}

func TestDisk_afterClose_errClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.vhdx")
	w, err := Create(path, CreateOptions{Size: 1 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 512), 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("Writer.WriteAt after Close: %v", err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := d.ReadAt(make([]byte, 1), 0); !errors.Is(err, ErrClosed) || d.Size() != 1<<20 {
		t.Fatalf("Disk.ReadAt after Close: %v", err)
	}
	if err := d.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}
