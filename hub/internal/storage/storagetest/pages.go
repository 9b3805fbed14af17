package storagetest

import (
	"context"
	"io"
	"sync"
	"testing"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

func testCreateIdempotent(t *testing.T, s storage.Store, ctr string, _ options) {
	name := ctr + "/disk/a.vhd"
	mustCreate(t, s, name, 1<<20)
	mustPut(t, s, name, 512, pattern(1, 1024))
	mustCreate(t, s, name, 1<<20) // again: success, contents kept
	got := readAll(t, s, name, "")
	want := make([]byte, 1<<20)
	copy(want[512:], pattern(1, 1024))
	wantBytes(t, "after second create", got, want)
	p, err := s.Properties(context.Background(), name, "")
	if err != nil || p.Kind != storage.KindPage || p.Size != 1<<20 || p.SequenceNumber != 0 {
		t.Fatalf("Properties = %+v, %v; want page blob of 1 MiB at sequence 0", p, err)
	}
}

func testCreateOtherSize(t *testing.T, s storage.Store, ctr string, _ options) {
	name := ctr + "/b.vhd"
	mustCreate(t, s, name, 4096)
	wantErr(t, "create with another size", s.CreatePageBlob(context.Background(), name, 8192), storeerr.ErrExists)
}

func testCreateUnaligned(t *testing.T, s storage.Store, ctr string, _ options) {
	wantErr(t, "create 1000 bytes", s.CreatePageBlob(context.Background(), ctr+"/c.vhd", 1000), storeerr.ErrInvalid)
}

func testPutRoundTrip(t *testing.T, s storage.Store, ctr string, _ options) {
	name := ctr + "/d.vhd"
	size := int64(9<<20 + 512)
	mustCreate(t, s, name, size)
	want := make([]byte, size)
	for i, w := range []struct{ off, n int64 }{{0, 512}, {4<<20 - 512, 4 << 20}, {size - 512, 512}, {1 << 20, 3<<20 + 512}} {
		data := pattern(uint64(i+10), int(w.n))
		mustPut(t, s, name, w.off, data)
		copy(want[w.off:], data)
	}
	wantBytes(t, "blob", readAll(t, s, name, ""), want)
	buf := make([]byte, 2048)
	n, err := s.ReadAt(context.Background(), name, "", buf, size-1024)
	if n != 1024 || err != io.EOF {
		t.Fatalf("ReadAt across the end: %d, %v; want 1024, io.EOF", n, err)
	}
	wantBytes(t, "tail", buf[:n], want[size-1024:])
}

func testPutLimits(t *testing.T, s storage.Store, ctr string, _ options) {
	name := ctr + "/e.vhd"
	mustCreate(t, s, name, 16<<20)
	ctx := context.Background()
	for _, c := range []struct {
		what string
		off  int64
		n    int
	}{{"4 MiB + 512", 0, 4<<20 + 512}, {"unaligned offset", 100, 512}, {"unaligned length", 0, 700}} {
		data := make([]byte, c.n)
		wantErr(t, c.what, s.PutPages(ctx, name, c.off, data, storage.CRC64(data), storage.Cond{}), storeerr.ErrInvalid)
	}
	mustPut(t, s, name, 4<<20, pattern(3, 4<<20)) // exactly 4 MiB is fine
}

func testPutBadCRC(t *testing.T, s storage.Store, ctr string, o options) {
	name := ctr + "/f.vhd"
	mustCreate(t, s, name, 1<<20)
	data := pattern(4, 4096)
	err := s.PutPages(context.Background(), name, 0, data, storage.CRC64(data)^1, storage.Cond{})
	if o.noChecksum {
		if err != nil { // record the emulator's behaviour: it accepts
			t.Fatalf("emulator now checks CRC-64 (%v): drop ServerIgnoresChecksums", err)
		}
		return
	}
	wantErr(t, "put with a wrong CRC-64", err, storeerr.ErrChecksum)
	wantBytes(t, "blob after refused put", readAll(t, s, name, ""), make([]byte, 1<<20))
}

func testPutPastEnd(t *testing.T, s storage.Store, ctr string, o options) {
	name := ctr + "/g.vhd"
	mustCreate(t, s, name, 1<<20)
	data := pattern(5, 1024)
	err := s.PutPages(context.Background(), name, 1<<20-512, data, storage.CRC64(data), storage.Cond{})
	if o.noRange {
		if err != nil {
			t.Fatalf("emulator now refuses writes past the end (%v): drop ServerAllowsWritesPastEnd", err)
		}
		return
	}
	wantErr(t, "put past the end", err, storeerr.ErrInvalid)
}

func testSequenceFence(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/h.vhd"
	mustCreate(t, s, name, 1<<20)
	if err := s.SetSequenceNumber(ctx, name, 5); err != nil {
		t.Fatalf("SetSequenceNumber: %v", err)
	}
	data := pattern(6, 8192)
	wantErr(t, "put if le 4 at 5", s.PutPages(ctx, name, 0, data, storage.CRC64(data), storage.IfSequenceLE(4)), storeerr.ErrConditionNotMet)
	wantBytes(t, "after fenced put", readAll(t, s, name, ""), make([]byte, 1<<20))
	if err := s.PutPages(ctx, name, 0, data, storage.CRC64(data), storage.IfSequenceLE(5)); err != nil {
		t.Fatalf("put if le 5 at 5: %v", err)
	}
	p, err := s.Properties(ctx, name, "")
	if err != nil || p.SequenceNumber != 5 {
		t.Fatalf("Properties = %+v, %v; want sequence 5", p, err)
	}
}

func testClear(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/i.vhd"
	size := int64(6 << 20)
	mustCreate(t, s, name, size)
	mustPut(t, s, name, 0, pattern(7, 4<<20))
	mustPut(t, s, name, 4<<20, pattern(8, 2<<20))
	want := append(pattern(7, 4<<20), pattern(8, 2<<20)...)
	if err := s.SetSequenceNumber(ctx, name, 2); err != nil {
		t.Fatalf("SetSequenceNumber: %v", err)
	}
	wantErr(t, "clear if le 1 at 2", s.ClearPages(ctx, name, 0, size, storage.IfSequenceLE(1)), storeerr.ErrConditionNotMet)
	wantBytes(t, "after fenced clear", readAll(t, s, name, ""), want)
	if err := s.ClearPages(ctx, name, 1<<20, 5<<20-1024, storage.IfSequenceLE(2)); err != nil {
		t.Fatalf("clear 5 MiB - 1 KiB: %v", err)
	}
	clear(want[1<<20 : 6<<20-1024])
	wantBytes(t, "after clear", readAll(t, s, name, ""), want)
}

func testSequenceMax(t *testing.T, s storage.Store, ctr string, _ options) {
	ctx := context.Background()
	name := ctr + "/j.vhd"
	mustCreate(t, s, name, 4096)
	for _, n := range []int64{7, 3, 7} {
		if err := s.SetSequenceNumber(ctx, name, n); err != nil {
			t.Fatalf("SetSequenceNumber(%d): %v", n, err)
		}
	}
	p, err := s.Properties(ctx, name, "")
	if err != nil || p.SequenceNumber != 7 {
		t.Fatalf("Properties = %+v, %v; want sequence 7 (never lowered)", p, err)
	}
}

func testConcurrent(t *testing.T, s storage.Store, ctr string, _ options) {
	name := ctr + "/k.vhd"
	const chunk, n = 1 << 20, 8
	mustCreate(t, s, name, chunk*n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			data := pattern(uint64(100+i), chunk)
			errs[i] = s.PutPages(context.Background(), name, int64(i*chunk), data, storage.CRC64(data), storage.IfSequenceLE(0))
		})
	}
	wg.Wait()
	var want []byte
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("put %d: %v", i, errs[i])
		}
		want = append(want, pattern(uint64(100+i), chunk)...)
	}
	wantBytes(t, "after concurrent puts", readAll(t, s, name, ""), want)
}
