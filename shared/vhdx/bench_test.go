package vhdx

import (
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vdisk"
)

// sparseDisk writes a dynamic VHDX whose BAT marks every every-th block
// FULLY_PRESENT (data left as file holes), without writing payload.
func sparseDisk(tb testing.TB, size, blockSize, every int64) string {
	tb.Helper()
	p := params{blockSize: blockSize, size: size, logical: 512, physical: 4096,
		diskID: mustGUID("01234567-89ab-4def-8123-456789abcdef")}
	g := newGeometry(p)
	lo := newLayout(g, miB)
	h, err := newHeader(lo)
	if err != nil {
		tb.Fatal(err)
	}
	bat := make([]byte, g.entries*8)
	end := lo.dataOff
	for b := int64(0); b < g.blocks; b += every {
		put64(bat[g.payloadIndex(b)*8:], makeEntry(stFull, end))
		end += blockSize
	}
	path := filepath.Join(tb.TempDir(), "sparse.vhdx")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := writePieces(f, skeleton(lo, h, p, bat), end); err != nil {
		tb.Fatal(err)
	}
	return path
}

func benchmarkExtents(b *testing.B, blockSize int64) {
	path := sparseDisk(b, 2<<40, blockSize, 100) // 1% allocated
	d, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	for b.Loop() {
		var data int64
		for e, err := range d.Extents() {
			if err != nil {
				b.Fatal(err)
			}
			if e.Kind == vdisk.KindData {
				data += e.Length
			}
		}
		if want := (d.Size()/blockSize + 99) / 100 * blockSize; data != want {
			b.Fatalf("data %d, want %d", data, want)
		}
	}
}

// BenchmarkExtents2TiB lists the extents of a 2 TiB dynamic disk with 1%
// of its blocks allocated.
func BenchmarkExtents2TiB(b *testing.B) {
	b.Run("block=32MiB", func(b *testing.B) { benchmarkExtents(b, 32*miB) })
	b.Run("block=1MiB", func(b *testing.B) { benchmarkExtents(b, miB) })
}

// BenchmarkOpen2TiB opens (and validates the BAT of) the same disk.
func BenchmarkOpen2TiB(b *testing.B) {
	path := sparseDisk(b, 2<<40, miB, 100)
	b.ReportAllocs()
	for b.Loop() {
		d, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}

// BenchmarkReadAt reads a 1 GiB disk with every other 32 MiB block
// allocated, 4 MiB per call.
func BenchmarkReadAt(b *testing.B) {
	path := sparseDisk(b, 1<<30, 32*miB, 2)
	d, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 4*miB)
	b.SetBytes(d.Size())
	b.ReportAllocs()
	for b.Loop() {
		for off := int64(0); off < d.Size(); off += int64(len(buf)) {
			if _, err := d.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	}
}
