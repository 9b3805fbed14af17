// Package blobtest is the conformance suite every blob.Store passes.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

// Reader is implemented by stores under test (or test wrappers around them)
// so that the suite can check what was stored. Unwritten pages read as zeros.
type Reader interface {
	ReadBlob(ctx context.Context, name string) ([]byte, error)
}

// Option adjusts the suite for a known limitation of a test double.
type Option func(*options)

type options struct {
	noChecksum bool
	noRange    bool
}

// ServerAllowsWritesPastEnd skips the case that expects a Put Page past the
// end of the blob to be refused. Only for the Azurite emulator, which
// accepts it (real Azure answers 416 InvalidPageRange).
func ServerAllowsWritesPastEnd() Option {
	return func(o *options) { o.noRange = true }
}

// ServerIgnoresChecksums skips the cases that expect a wrong CRC-64 to be
// refused. Only for the Azurite emulator, which accepts any CRC-64 header
// (real Azure answers 400 Crc64Mismatch).
func ServerIgnoresChecksums() Option {
	return func(o *options) { o.noChecksum = true }
}

// Run runs the suite. newStore returns an empty store (fresh container) for
// each subtest; it must also implement Reader.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	tests := []struct {
		name string
		fn   func(*testing.T, blob.Store)
	}{
		{"CreatePageBlob_idempotent", testCreateIdempotent},
		{"CreatePageBlob_otherSize_exists", testCreateOtherSize},
		{"CreatePageBlob_unaligned_invalid", testCreateUnaligned},
		{"WritePages_roundTrip", testWriteRoundTrip},
		{"WritePages_limits", testWriteLimits},
		{"WritePages_beyondEnd_invalid", testWriteBeyondEnd},
		{"WritePages_badChecksum", testWriteBadChecksum},
		{"WritePages_missingBlob_notFound", testWriteMissing},
		{"WritePages_concurrent", testWriteConcurrent},
		{"ClearPages_zeroes", testClear},
		{"CommitBlocks_roundTrip", testCommitRoundTrip},
		{"CommitBlocks_retryAfterSuccess", testCommitRetry},
		{"CommitBlocks_otherList_exists", testCommitOtherList},
		{"CommitBlocks_unstaged_invalid", testCommitUnstaged},
		{"StageBlock_badChecksum", testStageBadChecksum},
		{"StageBlock_restage_replaces", testRestage},
		{"Properties_missing_notFound", testPropsMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if o.noChecksum && strings.Contains(tt.name, "Checksum") {
				t.Skip("the server does not verify transactional CRC-64")
			}
			if o.noRange && strings.Contains(tt.name, "beyondEnd") {
				t.Skip("the server accepts Put Page past the end of the blob")
			}
			tt.fn(t, newStore(t))
		})
	}
}

// data returns n deterministic pseudo-random bytes.
func data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func read(t *testing.T, s blob.Store, name string) []byte {
	t.Helper()
	r, ok := s.(Reader)
	if !ok {
		t.Fatalf("store %T does not implement blobtest.Reader", s)
	}
	b, err := r.ReadBlob(context.Background(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func wantClass(t *testing.T, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("error %v, want class %v", err, class)
	}
	t.Logf("got expected error: %v", err)
}

func mustCreate(t *testing.T, s blob.Store, name string, size int64) {
	t.Helper()
	if err := s.CreatePageBlob(context.Background(), name, size); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func testCreateIdempotent(t *testing.T, s blob.Store) {
	ctx := context.Background()
	mustCreate(t, s, "disk.vhd", 1<<20+512)
	if err := s.WritePages(ctx, "disk.vhd", 0, blob.NewPayload(data(1, 4096))); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "disk.vhd", 1<<20+512) // a retry must not zero the blob
	p, err := s.Properties(ctx, "disk.vhd")
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != blob.KindPage || p.Size != 1<<20+512 || p.SequenceNumber != 0 {
		t.Fatalf("properties %+v", p)
	}
	if got := read(t, s, "disk.vhd"); !bytes.Equal(got[:4096], data(1, 4096)) {
		t.Fatal("re-create changed the content")
	}
}

func testCreateOtherSize(t *testing.T, s blob.Store) {
	mustCreate(t, s, "disk.vhd", 8192)
	wantClass(t, s.CreatePageBlob(context.Background(), "disk.vhd", 16384), storeerr.ErrExists)
}

func testCreateUnaligned(t *testing.T, s blob.Store) {
	wantClass(t, s.CreatePageBlob(context.Background(), "disk.vhd", 1000), storeerr.ErrInvalid)
}

func testWriteRoundTrip(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const size = 12 << 20
	mustCreate(t, s, "d", size)
	want := make([]byte, size)
	writes := []struct{ off, n int64 }{
		{0, 512}, {4 << 20, blob.MaxPutPage}, {size - 512, 512}, {1 << 20, blob.MaxPutPage - 512}, {9 << 20, 3 * 512},
	}
	for i, w := range writes {
		b := data(uint64(i+10), int(w.n))
		if err := s.WritePages(ctx, "d", w.off, blob.NewPayload(b)); err != nil {
			t.Fatalf("write %d+%d: %v", w.off, w.n, err)
		}
		copy(want[w.off:], b)
	}
	if got := read(t, s, "d"); !bytes.Equal(got, want) {
		t.Fatal("content differs from the writes")
	}
}

func testWriteLimits(t *testing.T, s blob.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", 16<<20)
	cases := []struct {
		name string
		off  int64
		n    int
	}{
		{"over 4 MiB", 0, blob.MaxPutPage + 512},
		{"unaligned offset", 100, 512},
		{"unaligned length", 0, 1000},
		{"empty", 0, 0},
	}
	for _, c := range cases {
		err := s.WritePages(ctx, "d", c.off, blob.NewPayload(data(2, c.n)))
		if !errors.Is(err, storeerr.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", c.name, err)
		}
	}
}

func testWriteBeyondEnd(t *testing.T, s blob.Store) {
	mustCreate(t, s, "d", 8192)
	err := s.WritePages(context.Background(), "d", 8192-512, blob.NewPayload(data(3, 1024)))
	wantClass(t, err, storeerr.ErrInvalid)
}

func testWriteBadChecksum(t *testing.T, s blob.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", 8192)
	p := blob.NewPayload(data(4, 1024))
	p.CRC64 ^= 1
	wantClass(t, s.WritePages(ctx, "d", 0, p), storeerr.ErrChecksum)
	if got := read(t, s, "d"); !bytes.Equal(got, make([]byte, 8192)) {
		t.Fatal("a write with a bad checksum landed")
	}
}

func testWriteMissing(t *testing.T, s blob.Store) {
	wantClass(t, s.WritePages(context.Background(), "nope", 0, blob.NewPayload(data(5, 512))), storeerr.ErrNotFound)
}

func testWriteConcurrent(t *testing.T, s blob.Store) {
	ctx := context.Background()
	const chunk, n = 256 << 10, 16
	mustCreate(t, s, "d", chunk*n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.WritePages(ctx, "d", int64(i*chunk), blob.NewPayload(data(uint64(100+i), chunk)))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := read(t, s, "d")
	for i := range n {
		if !bytes.Equal(got[i*chunk:(i+1)*chunk], data(uint64(100+i), chunk)) {
			t.Fatalf("chunk %d differs", i)
		}
	}
}

func testClear(t *testing.T, s blob.Store) {
	ctx := context.Background()
	mustCreate(t, s, "d", 8192)
	b := data(6, 8192)
	if err := s.WritePages(ctx, "d", 0, blob.NewPayload(b)); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearPages(ctx, "d", 1024, 2048); err != nil {
		t.Fatal(err)
	}
	copy(b[1024:3072], make([]byte, 2048))
	if got := read(t, s, "d"); !bytes.Equal(got, b) {
		t.Fatal("clear did not zero exactly the range")
	}
	wantClass(t, s.ClearPages(ctx, "d", 100, 512), storeerr.ErrInvalid)
}
