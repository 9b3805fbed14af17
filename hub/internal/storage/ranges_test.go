package storage

import (
	"slices"
	"testing"
)

func TestLimitRanges_clipsSortsMergesLimits(t *testing.T) {
	tests := []struct {
		name       string
		in         []Range
		off, end   int64
		limit      int
		want       []Range
		wantListed int64
	}{
		{"empty", nil, 0, 4096, 10, nil, 4096},
		{"clipped", []Range{{0, 2048}, {3072, 2048}}, 1024, 4096, 10, []Range{{1024, 1024}, {3072, 1024}}, 4096},
		{"unsortedAdjacentOverlapping", []Range{{2048, 512}, {0, 1024}, {1024, 512}, {1536, 1024}}, 0, 8192, 10, []Range{{0, 2560}}, 8192},
		{"limited", []Range{{0, 512}, {1024, 512}, {2048, 512}}, 0, 8192, 2, []Range{{0, 512}, {1024, 512}}, 1536},
		{"outside", []Range{{0, 512}, {8192, 512}}, 1024, 4096, 1, nil, 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, listed := LimitRanges(tt.in, tt.off, tt.end, tt.limit)
			if !slices.Equal(got, tt.want) || listed != tt.wantListed {
				t.Fatalf("LimitRanges = %v, %d; want %v, %d", got, listed, tt.want, tt.wantListed)
			}
		})
	}
}

func TestCheckPageRanges_refusesBadWindows(t *testing.T) {
	for _, w := range []struct {
		off, n int64
		limit  int
	}{{-512, 512, 1}, {100, 512, 1}, {0, 700, 1}, {0, 0, 1}, {0, 512, 0}} {
		if err := CheckPageRanges("get page ranges", "ctr/b", w.off, w.n, w.limit); err == nil {
			t.Fatalf("window %d+%d limit %d accepted", w.off, w.n, w.limit)
		}
	}
	if err := CheckPageRanges("get page ranges", "ctr/b", 512, 1024, 1); err != nil {
		t.Fatalf("good window refused: %v", err)
	}
}
