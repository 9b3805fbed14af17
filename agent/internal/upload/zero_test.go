package upload

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestDataSpans(t *testing.T) {
	zero := make([]byte, sector)
	mk := func(sectors int, data ...int) []byte {
		b := make([]byte, sectors*sector)
		for _, s := range data {
			b[s*sector+7] = 1
		}
		return b
	}
	tests := []struct {
		name   string
		buf    []byte
		minGap int
		want   []span
	}{
		{name: "all zero", buf: mk(8), minGap: sector, want: nil},
		{name: "one sector", buf: mk(8, 3), minGap: sector, want: []span{{3 * sector, sector}}},
		{name: "first and last", buf: mk(8, 0, 7), minGap: sector, want: []span{{0, sector}, {7 * sector, sector}}},
		{name: "adjacent merge", buf: mk(8, 2, 3, 4), minGap: sector, want: []span{{2 * sector, 3 * sector}}},
		{name: "small gap merged", buf: mk(8, 1, 4), minGap: 4 * sector, want: []span{{sector, 4 * sector}}},
		{name: "gap equal to min split", buf: mk(8, 1, 6), minGap: 4 * sector, want: []span{{sector, sector}, {6 * sector, sector}}},
		{name: "all data", buf: mk(4, 0, 1, 2, 3), minGap: sector, want: []span{{0, 4 * sector}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dataSpans(tt.buf, tt.minGap, zero); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("dataSpans = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDataSpans_coverEveryNonZeroByte checks random buffers: every non-zero
// byte is inside a span, spans are ordered, disjoint and sector aligned, and
// every zero gap left out is at least minGap long.
func TestDataSpans_coverEveryNonZeroByte(t *testing.T) {
	zero := make([]byte, sector)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 500; i++ {
		buf := make([]byte, (1+rng.IntN(64))*sector)
		for j := rng.IntN(20); j > 0; j-- {
			buf[rng.IntN(len(buf))] = byte(1 + rng.IntN(255))
		}
		minGap := (1 + rng.IntN(16)) * sector
		spans := dataSpans(buf, minGap, zero)
		covered := make([]bool, len(buf))
		prevEnd := -minGap
		for _, s := range spans {
			if s.Off%sector != 0 || s.Len%sector != 0 || s.Len == 0 {
				t.Fatalf("unaligned span %v", s)
			}
			if s.Off-prevEnd < minGap && prevEnd >= 0 {
				t.Fatalf("gap %d shorter than %d left out: %v", s.Off-prevEnd, minGap, spans)
			}
			for k := s.Off; k < s.Off+s.Len; k++ {
				covered[k] = true
			}
			prevEnd = s.Off + s.Len
		}
		for k, b := range buf {
			if b != 0 && !covered[k] {
				t.Fatalf("non-zero byte at %d not covered by %v", k, spans)
			}
		}
	}
}

func BenchmarkDataSpans_4MiB(b *testing.B) {
	zero := make([]byte, sector)
	buf := make([]byte, 4<<20)
	for i := 0; i < len(buf); i += 8192 {
		buf[i] = 1
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		dataSpans(buf, 64<<10, zero)
	}
}
