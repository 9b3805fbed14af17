package vhd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd/vhdtest"
)

// chainSpec describes a synthetic chain: a base disk and depth-1
// differencing children, each with random overlapping writes.
type chainSpec struct {
	name      string
	base      uint32 // vhdtest.Fixed or vhdtest.Dynamic
	depth     int
	size      int64
	blockSize uint32
	writes    int
	garbage   byte
	reverse   bool
}

// oracle is what the chain must read as: the same writes applied in order
// to a plain buffer, and which sectors any layer holds.
type oracle struct {
	data    []byte
	present []bool
}

// buildChain writes the chain into dir and returns the top file's path.
func buildChain(t *testing.T, dir string, s chainSpec, rng *rand.Rand) (string, oracle) {
	t.Helper()
	or := oracle{data: make([]byte, s.size), present: make([]bool, s.size/512)}
	var path string
	for i := range s.depth {
		typ := uint32(vhdtest.Differencing)
		if i == 0 {
			typ = s.base
		}
		im := vhdtest.New(typ, s.size, guid(byte(i+1)))
		im.BlockSize, im.Garbage, im.ReverseBlocks = s.blockSize, s.garbage, s.reverse
		im.TimeStamp = uint32(5000 + i)
		if i > 0 {
			im.Parent = &vhdtest.Parent{UniqueID: guid(byte(i)), TimeStamp: uint32(5000 + i - 1),
				Relative: fmt.Sprintf(`.\layer%d.vhd`, i-1)}
		}
		for w := range s.writes {
			off, data := randomWrite(rng, s.size, int64(im.BlockSize), i, w)
			im.Write(off, data)
			copy(or.data[off:], data)
			for k := off / 512; k < (off+int64(len(data)))/512; k++ {
				or.present[k] = typ != vhdtest.Fixed
			}
		}
		if typ == vhdtest.Fixed {
			for k := range or.present {
				or.present[k] = true
			}
		}
		path = writeImage(t, dir, fmt.Sprintf("layer%d.vhd", i), im)
	}
	return path, or
}

// randomWrite picks a sector-aligned range and content; one write in four is
// all zeros, which a child must still show over its parent's data.
func randomWrite(rng *rand.Rand, size, blockSize int64, layer, w int) (int64, []byte) {
	if blockSize == 0 {
		blockSize = 2 << 20
	}
	sectors := size / 512
	k := rng.Int64N(sectors)
	n := min(1+rng.Int64N(3*blockSize/512), sectors-k)
	data := make([]byte, n*512)
	if w%4 != 3 {
		for j := range data {
			data[j] = byte(layer*37 + w*11 + j/512 + 1)
		}
	}
	return k * 512, data
}

var chainSpecs = []chainSpec{
	{name: "dynamic_alone", base: vhdtest.Dynamic, depth: 1, size: 9 << 20, writes: 6},
	{name: "dynamic_garbage_in_absent_sectors", base: vhdtest.Dynamic, depth: 1, size: 5<<20 + 3*512, blockSize: 64 << 10, writes: 10, garbage: 0xEE},
	{name: "fixed_under_three_children", base: vhdtest.Fixed, depth: 4, size: 3<<20 + 512, blockSize: 256 << 10, writes: 8, garbage: 0x5A},
	{name: "dynamic_under_two_children", base: vhdtest.Dynamic, depth: 3, size: 7<<20 - 1024, blockSize: 1 << 20, writes: 8, garbage: 0xFF},
	{name: "depth6_small_blocks_reversed", base: vhdtest.Dynamic, depth: 6, size: 1<<20 + 7*512, blockSize: 4096, writes: 12, garbage: 0x11, reverse: true},
	{name: "block_512", base: vhdtest.Dynamic, depth: 3, size: 64 << 10, blockSize: 512, writes: 10, garbage: 0x22},
}

func TestDisk_ReadAt_chainMatchesOracle(t *testing.T) {
	for i, s := range chainSpecs {
		t.Run(s.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			top, or := buildChain(t, t.TempDir(), s, rng)
			d := mustOpen(t, top)
			if d.Size() != s.size {
				t.Fatalf("Size = %d, want %d", d.Size(), s.size)
			}
			if got := readAll(t, d); !bytes.Equal(got, or.data) {
				t.Fatalf("content differs from the oracle at byte %d", firstDiff(got, or.data))
			}
			for range 60 {
				off := rng.Int64N(s.size)
				n := 1 + rng.Int64N(min(s.size-off, 1<<20))
				buf := make([]byte, n)
				if _, err := d.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
					t.Fatalf("ReadAt(%d, %d): %v", n, off, err)
				}
				if !bytes.Equal(buf, or.data[off:off+n]) {
					t.Fatalf("ReadAt(%d, %d) differs from the oracle", n, off)
				}
			}
			checkExtents(t, d, or.data)
			checkPresent(t, d, or.present)
		})
	}
}

// checkPresent checks that data extents are exactly the sectors some layer
// holds: extents are precise to the sector, not just safe.
func checkPresent(t *testing.T, d vdisk.Image, present []bool) {
	t.Helper()
	got := make([]bool, len(present))
	for e, err := range d.Extents() {
		if err != nil {
			t.Fatal(err)
		}
		for k := e.Offset / 512; k < (e.End()+511)/512; k++ {
			got[k] = e.Kind == vdisk.KindData
		}
	}
	for k := range present {
		if got[k] != present[k] {
			t.Fatalf("sector %d: data extent %v, held by a layer %v", k, got[k], present[k])
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestDisk_ReadAt_concurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	top, or := buildChain(t, t.TempDir(), chainSpecs[3], rng)
	d := mustOpen(t, top)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 30 {
				off := r.Int64N(d.Size())
				buf := make([]byte, 1+r.Int64N(min(d.Size()-off, 512<<10)))
				if _, err := d.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
					errs <- err
					return
				}
				if !bytes.Equal(buf, or.data[off:off+int64(len(buf))]) {
					errs <- fmt.Errorf("ReadAt(%d, %d) differs", len(buf), off)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDisk_ReadAt_pastEnd(t *testing.T) {
	im := vhdtest.New(vhdtest.Dynamic, 1<<20, guid(1))
	im.Write(1<<20-512, bytes.Repeat([]byte{7}, 512))
	d := mustOpen(t, writeImage(t, t.TempDir(), "d.vhd", im))
	tests := []struct {
		name    string
		off     int64
		len     int
		wantN   int
		wantEOF bool
		wantErr bool
	}{
		{name: "at_end", off: 1 << 20, len: 10, wantN: 0, wantEOF: true},
		{name: "beyond_end", off: 5 << 20, len: 10, wantN: 0, wantEOF: true},
		{name: "straddling_end", off: 1<<20 - 100, len: 200, wantN: 100, wantEOF: true},
		{name: "ending_at_end", off: 1<<20 - 100, len: 100, wantN: 100},
		{name: "negative", off: -1, len: 10, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, tt.len)
			n, err := d.ReadAt(buf, tt.off)
			if tt.wantErr {
				if err == nil || errors.Is(err, io.EOF) {
					t.Fatalf("err = %v, want a non-EOF error", err)
				}
				return
			}
			if n != tt.wantN || errors.Is(err, io.EOF) != tt.wantEOF || (err != nil && !errors.Is(err, io.EOF)) {
				t.Fatalf("ReadAt = %d, %v; want %d, EOF %v", n, err, tt.wantN, tt.wantEOF)
			}
			if n > 0 && !bytes.Equal(buf[:n], bytes.Repeat([]byte{7}, n)) {
				t.Fatalf("ReadAt returned wrong bytes")
			}
		})
	}
}
