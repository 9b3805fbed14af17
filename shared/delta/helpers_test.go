package delta

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
)

// testHeader returns a valid header for a disk of the given size.
func testHeader(vs int64) Header {
	return Header{Kind: KindCycle, VMID: ID{1, 2, 3}, DiskID: ID{4, 5, 6}, Cycle: 7, PrevCycle: 6,
		VirtualSize: vs, LogIDs: []ID{{9}, {10, 11}}, Compression: CompressionZstd}
}

// fillData returns n bytes that compress well or not at all.
func fillData(r *rand.Rand, n int64, compressible bool) []byte {
	b := make([]byte, n)
	if !compressible {
		var v uint64
		for i := range b {
			if i%8 == 0 {
				v = r.Uint64()
			}
			b[i], v = byte(v), v>>8
		}
		return b
	}
	return textData(r, n)
}

// textData returns n bytes of log-like text: words from a small vocabulary
// and numbers, which zstd compresses about four to one.
func textData(r *rand.Rand, n int64) []byte {
	words := []string{"replica", "sector", "info", "error", "disk", "GET", "/api/v1/items", "200", "user=", "ok", "\n"}
	b := make([]byte, 0, n+16)
	for int64(len(b)) < n {
		if r.IntN(8) == 0 {
			b = strconv.AppendInt(b, r.Int64N(100000), 10)
		} else {
			b = append(b, words[r.IntN(len(words))]...)
		}
		b = append(b, ' ')
	}
	return b[:n]
}

// testCase is a plan with the data of its data extents.
type testCase struct {
	hdr  Header
	plan []Extent
	data [][]byte // one per plan extent; nil for zero extents
}

// randomCase builds n extents with lengths in sectors up to maxLen bytes.
func randomCase(r *rand.Rand, n int, maxLen int64) testCase {
	tc := testCase{}
	var off int64
	for range n {
		off += SectorSize * r.Int64N(4) // gaps, sometimes none
		l := SectorSize * (1 + r.Int64N(maxLen/SectorSize))
		e := Extent{Offset: off, Length: l, Kind: Data}
		var d []byte
		if r.IntN(4) == 0 {
			e.Kind = Zero
		} else {
			d = fillData(r, l, r.IntN(2) == 0)
		}
		tc.plan, tc.data = append(tc.plan, e), append(tc.data, d)
		off += l
	}
	tc.hdr = testHeader(off + SectorSize*r.Int64N(8))
	if tc.hdr.VirtualSize == 0 {
		tc.hdr.VirtualSize = SectorSize
	}
	return tc
}

// fataler is the part of testing.TB and rapid.T the helpers use.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// write encodes tc, feeding data through Write in odd-sized pieces.
func (tc *testCase) write(t fataler) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, tc.hdr, tc.plan)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	for _, d := range tc.data {
		for len(d) > 0 {
			n := min(len(d), 1+len(d)/3)
			if _, err := w.Write(d[:n]); err != nil {
				t.Fatalf("Write: %v", err)
			}
			d = d[n:]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := w.Stats().BytesOut; got != int64(buf.Len()) {
		t.Fatalf("Stats.BytesOut = %d, wrote %d", got, buf.Len())
	}
	return buf.Bytes()
}

// model applies tc directly to a disk image filled with 0xA5.
func (tc *testCase) model() []byte {
	disk := bytes.Repeat([]byte{0xA5}, int(tc.hdr.VirtualSize))
	for i, e := range tc.plan {
		if e.Kind == Zero {
			clear(disk[e.Offset:e.End()])
		} else {
			copy(disk[e.Offset:], tc.data[i])
		}
	}
	return disk
}

// apply reads obj as the hub does and applies it to a disk image filled
// with 0xA5.
func apply(obj []byte) ([]byte, error) {
	r, err := NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		return nil, err
	}
	disk := bytes.Repeat([]byte{0xA5}, int(r.Header().VirtualSize))
	it := r.Extents()
	defer it.Close()
	for {
		e, err := it.Next()
		if errors.Is(err, io.EOF) {
			return disk, nil
		} else if err != nil {
			return nil, err
		}
		if e.Kind == Zero {
			clear(disk[e.Offset:e.End()])
			continue
		}
		d, err := it.Data()
		if err != nil {
			return nil, err
		}
		if int64(len(d)) != e.Length || e.Length > MaxChunk {
			return nil, errors.New("data length differs from extent length")
		}
		copy(disk[e.Offset:], d)
	}
}
