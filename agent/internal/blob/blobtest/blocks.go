package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

func stage(t *testing.T, s blob.Store, name string, blocks map[string][]byte) {
	t.Helper()
	for id, b := range blocks {
		if err := s.StageBlock(context.Background(), name, id, blob.NewPayload(b)); err != nil {
			t.Fatalf("stage %s/%s: %v", name, id, err)
		}
	}
}

func blockIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("block-%06d", i)
	}
	return ids
}

func testCommitRoundTrip(t *testing.T, s blob.Store) {
	ctx := context.Background()
	ids := blockIDs(3)
	blocks := map[string][]byte{ids[0]: data(7, 1000), ids[1]: data(8, 1), ids[2]: data(9, 70000)}
	stage(t, s, "cycle/1.delta", blocks)
	if _, err := s.Properties(ctx, "cycle/1.delta"); !errors.Is(err, storeerr.ErrNotFound) {
		t.Fatalf("staged blocks are visible before commit: %v", err)
	}
	order := []string{ids[2], ids[0], ids[1]}
	if err := s.CommitBlocks(ctx, "cycle/1.delta", order); err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{blocks[ids[2]], blocks[ids[0]], blocks[ids[1]]}, nil)
	if got := read(t, s, "cycle/1.delta"); !bytes.Equal(got, want) {
		t.Fatal("committed content differs")
	}
	p, err := s.Properties(ctx, "cycle/1.delta")
	if err != nil || p.Kind != blob.KindBlock || p.Size != int64(len(want)) {
		t.Fatalf("properties %+v, %v", p, err)
	}
}

func testCommitRetry(t *testing.T, s blob.Store) {
	ctx := context.Background()
	ids := blockIDs(2)
	stage(t, s, "o", map[string][]byte{ids[0]: data(10, 512), ids[1]: data(11, 512)})
	for i := range 2 { // the second commit is the retry of a lost answer
		if err := s.CommitBlocks(ctx, "o", ids); err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
	}
}

func testCommitOtherList(t *testing.T, s blob.Store) {
	ctx := context.Background()
	ids := blockIDs(2)
	stage(t, s, "o", map[string][]byte{ids[0]: data(12, 512), ids[1]: data(13, 512)})
	if err := s.CommitBlocks(ctx, "o", ids); err != nil {
		t.Fatal(err)
	}
	stage(t, s, "o", map[string][]byte{ids[0]: data(14, 512)})
	wantClass(t, s.CommitBlocks(ctx, "o", ids[:1]), storeerr.ErrExists)
	if got := read(t, s, "o"); !bytes.Equal(got, append(data(12, 512), data(13, 512)...)) {
		t.Fatal("a finished object was overwritten")
	}
}

func testCommitUnstaged(t *testing.T, s blob.Store) {
	wantClass(t, s.CommitBlocks(context.Background(), "o", blockIDs(1)), storeerr.ErrInvalid)
}

func testStageBadChecksum(t *testing.T, s blob.Store) {
	p := blob.NewPayload(data(15, 4096))
	p.CRC64++
	wantClass(t, s.StageBlock(context.Background(), "o", blockIDs(1)[0], p), storeerr.ErrChecksum)
}

func testRestage(t *testing.T, s blob.Store) {
	ctx := context.Background()
	id := blockIDs(1)
	stage(t, s, "o", map[string][]byte{id[0]: data(16, 100)})
	stage(t, s, "o", map[string][]byte{id[0]: data(17, 200)})
	if err := s.CommitBlocks(ctx, "o", id); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, "o"); !bytes.Equal(got, data(17, 200)) {
		t.Fatal("re-staged block did not replace the first")
	}
}

func testPropsMissing(t *testing.T, s blob.Store) {
	_, err := s.Properties(context.Background(), "nope")
	wantClass(t, err, storeerr.ErrNotFound)
}
