package mem_test

import (
	"context"
	"slices"
	"testing"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
)

func TestStore_PageRanges_exact(t *testing.T) {
	ctx := context.Background()
	s := mem.New(mem.Config{OnViolation: func(m string) { t.Errorf("violation: %s", m) }})
	s.CreateContainer("ctr")
	const name = "ctr/d"
	if err := s.CreatePageBlob(ctx, name, 1<<20); err != nil {
		t.Fatal(err)
	}
	put := func(off int64, data []byte) {
		t.Helper()
		if err := s.PutPages(ctx, name, off, data, storage.CRC64(data), storage.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(snapshot string) []storage.Range {
		t.Helper()
		rs, next, err := s.PageRanges(ctx, name, snapshot, 0, 1<<20, 100)
		if err != nil || next != 1<<20 {
			t.Fatalf("PageRanges: %v, next %d", err, next)
		}
		return rs
	}
	put(0, make([]byte, 4096))       // zeros written are still valid pages
	put(60<<10, make([]byte, 8<<10)) // across a chunk boundary
	if err := s.ClearPages(ctx, name, 1024, 512, storage.Cond{}); err != nil {
		t.Fatal(err)
	}
	want := []storage.Range{{Off: 0, N: 1024}, {Off: 1536, N: 2560}, {Off: 60 << 10, N: 8 << 10}}
	if got := list(""); !slices.Equal(got, want) {
		t.Fatalf("ranges %v, want %v", got, want)
	}
	id, err := s.CreateSnapshot(ctx, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ClearPages(ctx, name, 0, 128<<10, storage.Cond{}); err != nil {
		t.Fatal(err)
	}
	if got := list(""); len(got) != 0 {
		t.Fatalf("ranges after clearing everything: %v", got)
	}
	if got := list(id); !slices.Equal(got, want) {
		t.Fatalf("snapshot ranges %v, want %v", got, want)
	}
}
