package vhd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vhd/vhdtest"
)

// BenchmarkDisk_ReadAt reads a fully allocated 64 MiB dynamic disk in
// 4 MiB pieces; compare with BenchmarkFile_ReadAt, the same bytes from a
// plain file.
func BenchmarkDisk_ReadAt(b *testing.B) {
	im := vhdtest.New(vhdtest.Dynamic, 64<<20, guid(1))
	im.Write(0, bytes.Repeat([]byte{1}, 64<<20))
	p := filepath.Join(b.TempDir(), "d.vhd")
	if err := im.WriteFile(p); err != nil {
		b.Fatal(err)
	}
	d, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	benchRead(b, d.ReadAt, 64<<20)
}

func BenchmarkFile_ReadAt(b *testing.B) {
	p := filepath.Join(b.TempDir(), "d.raw")
	if err := os.WriteFile(p, bytes.Repeat([]byte{1}, 64<<20), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	benchRead(b, f.ReadAt, 64<<20)
}

func benchRead(b *testing.B, readAt func([]byte, int64) (int, error), size int64) {
	buf := make([]byte, 4<<20)
	b.SetBytes(size)
	for b.Loop() {
		for off := int64(0); off < size; off += int64(len(buf)) {
			if _, err := readAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	}
}
