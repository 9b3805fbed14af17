package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"
)

// drawSectors draws an extent length in sectors: mostly small, sometimes
// close to one or two MaxChunk so chunk splitting is exercised.
func drawSectors(t *rapid.T) int64 {
	const perChunk = MaxChunk / SectorSize
	switch rapid.IntRange(0, 39).Draw(t, "size class") {
	case 38:
		return rapid.Int64Range(perChunk-2, perChunk+2).Draw(t, "sectors")
	case 39:
		return rapid.Int64Range(2*perChunk-1, 2*perChunk+1).Draw(t, "sectors")
	}
	return rapid.Int64Range(1, 64).Draw(t, "sectors")
}

// caseGen draws a plan and its data.
func caseGen(t *rapid.T) testCase {
	var tc testCase
	var off int64
	n := rapid.IntRange(0, 6).Draw(t, "extents")
	for i := range n {
		off += SectorSize * rapid.Int64Range(0, 3).Draw(t, "gap")
		e := Extent{Offset: off, Length: SectorSize * drawSectors(t), Kind: Data}
		var d []byte
		if rapid.Bool().Draw(t, "zero") {
			e.Kind = Zero
		} else {
			r := rand.New(rand.NewPCG(uint64(i), rapid.Uint64().Draw(t, "seed")))
			d = fillData(r, e.Length, rapid.Bool().Draw(t, "compressible"))
		}
		tc.plan, tc.data = append(tc.plan, e), append(tc.data, d)
		off += e.Length
	}
	tc.hdr = testHeader(off + SectorSize*rapid.Int64Range(1, 4).Draw(t, "tail"))
	return tc
}

func TestWriter_RoundTrip_property(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		tc := caseGen(t)
		obj := tc.write(t)
		if err := Verify(bytes.NewReader(obj), int64(len(obj))); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		got, err := apply(obj)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		if !bytes.Equal(got, tc.model()) {
			t.Fatal("applied object differs from the model")
		}
		var wantCount, wantData int64
		for _, e := range tc.plan {
			wantCount++
			if e.Kind == Data {
				wantCount += (e.Length - 1) / MaxChunk
				wantData += e.Length
			}
		}
		r, err := NewReader(bytes.NewReader(obj), int64(len(obj)))
		if err != nil {
			t.Fatal(err)
		}
		if r.ExtentCount() != wantCount || r.DataBytes() != wantData {
			t.Fatalf("count %d data %d, want %d and %d", r.ExtentCount(), r.DataBytes(), wantCount, wantData)
		}
	})
}

// errReaderAt fails every read past a limit with errRead.
type errReaderAt struct {
	r     io.ReaderAt
	limit int64
}

var errRead = errors.New("storage read failed")

func (e errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > e.limit {
		return 0, errRead
	}
	return e.r.ReadAt(p, off)
}

func TestVerify_ReadError_passedThroughNotCorrupt(t *testing.T) {
	obj := smallObject(t)
	for _, limit := range []int64{0, HeaderSize, HeaderSize + 100, int64(len(obj)) - FooterSize} {
		err := Verify(errReaderAt{bytes.NewReader(obj), limit}, int64(len(obj)))
		if !errors.Is(err, errRead) || isFormatError(err) {
			t.Fatalf("limit %d: error %v, want the read error and no format sentinel", limit, err)
		}
	}
}
