package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// testPageRanges writes, clears, snapshots and writes again, then checks
// that the listings of the snapshot and of the blob each cover their
// non-zero bytes and leave out what was never written.
func testPageRanges(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/sparse.vhd"
	const size = 16 << 20
	mustCreate(t, s, name, size)
	mustPut(t, s, name, 0, pattern(50, 64<<10))
	mustPut(t, s, name, 1<<20, pattern(51, 4<<20))
	mustPut(t, s, name, 8<<20+512, pattern(52, 1024))
	for _, c := range []storage.Range{{Off: 2 << 20, N: 1 << 20}, {Off: 8 << 20, N: 1 << 20}} {
		if err := s.ClearPages(ctx, name, c.Off, c.N, storage.Cond{}); err != nil {
			t.Fatalf("ClearPages(%d, %d): %v", c.Off, c.N, err)
		}
	}
	id, err := s.CreateSnapshot(ctx, name, nil)
	if err != nil {
		t.Fatalf("CreateSnapshot: %v", err)
	}
	mustPut(t, s, name, 12<<20, pattern(53, 8192))
	mustPut(t, s, name, 2<<20+4096, pattern(54, 4096)) // into the cleared range
	never := []storage.Range{{Off: 64 << 10, N: 1<<20 - 64<<10}, {Off: 5 << 20, N: 3 << 20}, {Off: 9 << 20, N: 3 << 20}, {Off: 12<<20 + 8192, N: 4<<20 - 8192}}
	snapNever := append(slices.Clone(never), storage.Range{Off: 12 << 20, N: 8192})
	checkListing(t, s, name, id, size, snapNever)
	checkListing(t, s, name, "", size, never)
	got := listAll(t, s, name, "", 0, size, 1000)
	if len(got) == 0 || got[len(got)-1].End() != 12<<20+8192 {
		t.Fatalf("blob ranges %v: the write after the snapshot is missing", got)
	}
	checkPaging(t, s, name, size, got)
}

// checkListing checks one listing of a whole blob or snapshot.
func checkListing(t *testing.T, s storage.Store, name, snapshot string, size int64, never []storage.Range) {
	t.Helper()
	rs := listAll(t, s, name, snapshot, 0, size, 1000)
	data := readAll(t, s, name, snapshot)
	at := int64(0)
	for _, r := range rs {
		if nz := firstNonZero(data[at:r.Off]); nz >= 0 {
			t.Fatalf("snapshot %q: byte %d is not zero but not listed in %v", snapshot, at+nz, rs)
		}
		at = r.End()
	}
	if nz := firstNonZero(data[at:]); nz >= 0 {
		t.Fatalf("snapshot %q: byte %d is not zero but not listed in %v", snapshot, at+nz, rs)
	}
	for _, r := range rs {
		for _, w := range never {
			if r.Off < w.End() && w.Off < r.End() {
				t.Fatalf("snapshot %q: range %+v lists never-written bytes %+v", snapshot, r, w)
			}
		}
	}
}

// checkPaging lists the blob one range a call and a window inside it, and
// compares with the whole listing.
func checkPaging(t *testing.T, s storage.Store, name string, size int64, want []storage.Range) {
	t.Helper()
	if got := listAll(t, s, name, "", 0, size, 1); !slices.Equal(merge(got), want) {
		t.Fatalf("listing one range a call = %v, want %v", got, want)
	}
	var inside []storage.Range
	for _, r := range want {
		lo, hi := max(r.Off, 1<<20+4096), min(r.End(), 3<<20)
		if lo < hi {
			inside = append(inside, storage.Range{Off: lo, N: hi - lo})
		}
	}
	if got := listAll(t, s, name, "", 1<<20+4096, 2<<20-4096, 1000); !slices.Equal(got, inside) {
		t.Fatalf("listing of a window = %v, want %v", got, inside)
	}
	_, _, err := s.PageRanges(context.Background(), name, "", 100, 512, 1)
	wantErr(t, "unaligned window", err, storeerr.ErrInvalid)
	_, _, err = s.PageRanges(context.Background(), name+"-none", "", 0, 512, 1)
	wantErr(t, "missing blob", err, storeerr.ErrNotFound)
}

// listAll walks a window through PageRanges, checking each answer's shape.
func listAll(t *testing.T, s storage.Store, name, snapshot string, off, n int64, limit int) []storage.Range {
	t.Helper()
	var out []storage.Range
	for at := off; at < off+n; {
		rs, next, err := s.PageRanges(context.Background(), name, snapshot, at, off+n-at, limit)
		if err != nil {
			t.Fatalf("PageRanges(%s, %q, %d, %d): %v", name, snapshot, at, off+n-at, err)
		}
		if next <= at || next > off+n || len(rs) > limit {
			t.Fatalf("PageRanges at %d: %d ranges, next %d; want at most %d and progress inside the window", at, len(rs), next, limit)
		}
		if err := checkShape(rs, at, next); err != nil {
			t.Fatalf("PageRanges at %d: %v", at, err)
		}
		out, at = append(out, rs...), next
	}
	return out
}

// checkShape checks that ranges are sorted, merged, page aligned and
// inside [off, next).
func checkShape(rs []storage.Range, off, next int64) error {
	for i, r := range rs {
		switch {
		case r.N <= 0 || r.Off%storage.PageSize != 0 || r.N%storage.PageSize != 0:
			return fmt.Errorf("range %+v is empty or not page aligned", r)
		case r.Off < off || r.End() > next:
			return fmt.Errorf("range %+v outside [%d, %d)", r, off, next)
		case i > 0 && r.Off <= rs[i-1].End():
			return fmt.Errorf("ranges %+v and %+v overlap, touch or are out of order", rs[i-1], r)
		}
	}
	return nil
}

// merge joins touching ranges of a sorted list.
func merge(rs []storage.Range) []storage.Range {
	var out []storage.Range
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && out[k].End() == r.Off {
			out[k].N += r.N
			continue
		}
		out = append(out, r)
	}
	return out
}

// firstNonZero returns the index of the first non-zero byte, or -1.
func firstNonZero(b []byte) int64 {
	for i, x := range b {
		if x != 0 {
			return int64(i)
		}
	}
	return -1
}
