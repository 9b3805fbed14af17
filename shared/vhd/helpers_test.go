package vhd

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd/vhdtest"
)

// readAll reads the whole virtual disk through ReadAt in odd-sized pieces.
func readAll(t *testing.T, img vdisk.Image) []byte {
	t.Helper()
	out := make([]byte, img.Size())
	const piece = 300000 // not a multiple of 512: exercises partial sectors
	for off := int64(0); off < img.Size(); off += piece {
		end := min(off+piece, img.Size())
		n, err := img.ReadAt(out[off:end], off)
		if n != int(end-off) || (err != nil && !(errors.Is(err, io.EOF) && end == img.Size())) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", end-off, off, n, err)
		}
	}
	return out
}

// checkExtents checks that the extents cover [0, Size) exactly, in order,
// and that every non-zero byte of want lies in a data extent. It returns the
// number of data bytes.
func checkExtents(t *testing.T, img vdisk.Image, want []byte) int64 {
	t.Helper()
	var next, data int64
	for e, err := range img.Extents() {
		if err != nil {
			t.Fatalf("Extents: %v", err)
		}
		if e.Offset != next || e.Length <= 0 {
			t.Fatalf("extent %+v does not start at %d or is empty", e, next)
		}
		switch e.Kind {
		case vdisk.KindData:
			data += e.Length
		case vdisk.KindZero:
			if i := bytes.IndexFunc(want[e.Offset:e.End()], func(r rune) bool { return r != 0 }); i >= 0 {
				t.Fatalf("zero extent %+v holds non-zero data near %d", e, e.Offset+int64(i))
			}
		default:
			t.Fatalf("extent %+v has kind %v", e, e.Kind)
		}
		next = e.End()
	}
	if next != img.Size() {
		t.Fatalf("extents end at %d, size is %d", next, img.Size())
	}
	return data
}

// guid makes a distinct identifier from a small number.
func guid(n byte) [16]byte {
	return [16]byte{0: 0xAB, 1: n, 15: n, 8: 0x80}
}

// writeImage writes im into dir under name and returns the path.
func writeImage(t *testing.T, dir, name string, im *vhdtest.Image) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := im.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustOpen opens path or fails the test, closing the disk at cleanup.
func mustOpen(t *testing.T, path string) *Disk {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
