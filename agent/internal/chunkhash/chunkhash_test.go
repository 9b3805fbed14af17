package chunkhash

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"iter"
	"math/rand/v2"
	"testing"

	"hvmigrate/shared/vdisk"
)

// memImage is a disk in memory with a given extent map.
type memImage struct {
	data    []byte
	extents []vdisk.Extent
}

func (m *memImage) ReadAt(p []byte, off int64) (int, error) {
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (m *memImage) Close() error                { return nil }
func (m *memImage) Size() int64                 { return int64(len(m.data)) }
func (m *memImage) LogicalSectorSize() int      { return 512 }
func (m *memImage) PhysicalSectorSize() int     { return 512 }
func (m *memImage) Identity() vdisk.Identity    { return vdisk.Identity{} }
func (m *memImage) Describe() vdisk.Description { return vdisk.Description{} }
func (m *memImage) Extents() iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		for _, e := range m.extents {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// TestHash_matchesOracle hashes random disks (sizes not a whole number of
// chunks, data extents of any length and alignment) and checks every hash
// against the chunk's bytes: a data chunk's SHA-256, or "" exactly for the
// chunks no data extent touches.
func TestHash_matchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	for round := 0; round < 50; round++ {
		size := int64(MinChunk*(1+rng.IntN(40)) + 512*rng.IntN(128))
		img := &memImage{data: make([]byte, size)}
		touched := map[int64]bool{}
		for off := int64(0); off < size; {
			n := min(size-off, int64(512*(1+rng.IntN(400))))
			kind := vdisk.KindZero
			if rng.IntN(3) == 0 {
				kind = vdisk.KindData
				for i := off; i < off+n; i++ {
					img.data[i] = byte(rng.Uint32())
				}
				for c := off / MinChunk; c <= (off+n-1)/MinChunk; c++ {
					touched[c] = true
				}
			}
			img.extents = append(img.extents, vdisk.Extent{Offset: off, Length: n, Kind: kind})
			off += n
		}
		var got []string
		err := Hash(context.Background(), img, MinChunk, func(first int64, hs []string) error {
			if first != int64(len(got)) {
				t.Fatalf("batch starts at %d after %d hashes", first, len(got))
			}
			got = append(got, hs...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		chunks := (size + MinChunk - 1) / MinChunk
		if int64(len(got)) != chunks {
			t.Fatalf("round %d: %d hashes for %d chunks", round, len(got), chunks)
		}
		for c := int64(0); c < chunks; c++ {
			want := ""
			if touched[c] {
				s := sha256.Sum256(img.data[c*MinChunk : min(size, (c+1)*MinChunk)])
				want = hex.EncodeToString(s[:])
			}
			if got[c] != want {
				t.Fatalf("round %d chunk %d: %q, want %q", round, c, got[c], want)
			}
		}
	}
}

func TestHash_batchesAndChunkSize(t *testing.T) {
	img := &memImage{data: make([]byte, (Batch+5)*MinChunk)}
	img.extents = []vdisk.Extent{{Offset: 0, Length: img.Size(), Kind: vdisk.KindZero}}
	var batches []int
	if err := Hash(context.Background(), img, MinChunk, func(_ int64, hs []string) error {
		batches = append(batches, len(hs))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 2 || batches[0] != Batch || batches[1] != 5 {
		t.Fatalf("batches %v", batches)
	}
	for _, bad := range []int64{0, MinChunk / 2, MinChunk + 512, MaxChunk * 2} {
		if err := Hash(context.Background(), img, bad, nil); !errors.Is(err, ErrChunkSize) {
			t.Errorf("chunk size %d: err = %v", bad, err)
		}
	}
}
