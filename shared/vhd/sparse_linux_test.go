package vhd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"hvmigrate/shared/vhd/vhdtest"
)

// TestExtents_sparseFixed checks that a fixed VHD written as a sparse file
// reports its holes as zero extents, that every byte outside them is
// covered by data extents, and that reading still returns the image.
func TestExtents_sparseFixed(t *testing.T) {
	const size = 16 << 20
	im := &vhdtest.Image{Type: vhdtest.Fixed, Size: size, UniqueID: guid(1)}
	pieces := []struct{ off, n int64 }{{0, 4096}, {3 << 20, 1 << 20}, {9<<20 + 512, 8192}, {size - 1<<20, 1 << 20}}
	for i, p := range pieces {
		im.Write(p.off, bytes.Repeat([]byte{byte(i + 1)}, int(p.n)))
	}
	want := im.Bytes()

	// Write only the pieces and the footer: the rest stays a hole.
	path := filepath.Join(t.TempDir(), "sparse.vhd")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(pieces, struct{ off, n int64 }{size, 512}) {
		if _, err := f.WriteAt(want[p.off:p.off+p.n], p.off); err != nil {
			t.Fatal(err)
		}
	}
	hole, herr := unix.Seek(int(f.Fd()), 0, unix.SEEK_HOLE)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	data := checkExtents(t, d, want[:size])
	if herr == nil && hole < size {
		// The file system keeps holes: most of the disk must be skipped.
		if data > 4<<20 {
			t.Errorf("%d data bytes reported for %d bytes written: holes not skipped", data, 2<<20+12288)
		}
	} else if data != size {
		t.Errorf("without holes the whole disk must be data: got %d of %d", data, size)
	}
	got := make([]byte, size)
	if _, err := d.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want[:size]) {
		t.Fatal("ReadAt of the sparse fixed VHD differs from the image")
	}
	t.Logf("%d of %d bytes reported as holes", size-data, int64(size))
}
