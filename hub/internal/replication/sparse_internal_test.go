package replication

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
)

// countingStore counts reads and can shrink the batches of page range
// listings, to walk the cursor across many calls.
type countingStore struct {
	storage.Store
	limit int // when set, the most ranges one listing returns

	mu        sync.Mutex
	reads     int
	readBytes int64
	listings  int
}

func (c *countingStore) ReadAt(ctx context.Context, name, snapshot string, p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.reads, c.readBytes = c.reads+1, c.readBytes+int64(len(p))
	c.mu.Unlock()
	return c.Store.ReadAt(ctx, name, snapshot, p, off)
}

func (c *countingStore) PageRanges(ctx context.Context, name, snapshot string, off, n int64, limit int) ([]storage.Range, int64, error) {
	c.mu.Lock()
	c.listings++
	c.mu.Unlock()
	if c.limit > 0 {
		limit = min(limit, c.limit)
	}
	return c.Store.PageRanges(ctx, name, snapshot, off, n, limit)
}

// sparseDisk is a page blob in the in-memory store.
type sparseDisk struct {
	t     *testing.T
	ctx   context.Context
	mem   *mem.Store
	store *countingStore
	name  string
}

func newSparseDisk(t *testing.T, size int64) *sparseDisk {
	m := mem.New(mem.Config{OnViolation: func(msg string) { t.Errorf("storage violation: %s", msg) }})
	m.CreateContainer("rep")
	d := &sparseDisk{t: t, ctx: context.Background(), mem: m, store: &countingStore{Store: m}, name: "rep/vm/disk0.vhd"}
	if err := m.CreatePageBlob(d.ctx, d.name, roundPage(size)); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *sparseDisk) put(off int64, data []byte) {
	d.t.Helper()
	for len(data) > 0 {
		k := min(len(data), storage.MaxPutPage)
		if err := d.mem.PutPages(d.ctx, d.name, off, data[:k], storage.CRC64(data[:k]), storage.Cond{}); err != nil {
			d.t.Fatal(err)
		}
		off, data = off+int64(k), data[k:]
	}
}

func (d *sparseDisk) diff(pd state.PointDisk, size int64, h DiskHashes) []chunkRun {
	d.t.Helper()
	s := &Service{blobs: d.store}
	runs, err := s.diffChunks(d.ctx, pd, size, h)
	if err != nil {
		d.t.Fatalf("diffChunks: %v", err)
	}
	return runs
}

// sourceHashes hashes data as the source does: "" for an all-zero chunk.
func sourceHashes(data []byte, chunk int64) []string {
	var out []string
	for off := int64(0); off < int64(len(data)); off += chunk {
		c := data[off:min(off+chunk, int64(len(data)))]
		if allZero(c) {
			out = append(out, "")
			continue
		}
		out = append(out, sha(c))
	}
	return out
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDiffChunks_sparse_readsOnlyValidPages(t *testing.T) {
	const size, chunk = 64 << 20, 1 << 20
	d := newSparseDisk(t, size)
	src := make([]byte, size)
	for _, w := range []struct{ off, n int64 }{{3<<20 + 8192, 4096}, {10<<20 + 512<<10, 1 << 20}} {
		data := bytes.Repeat([]byte{0xa5}, int(w.n))
		d.put(w.off, data)
		copy(src[w.off:], data)
	}
	d.put(40<<20, make([]byte, 8192)) // written zeros: listed, read, still zero
	h := DiskHashes{Cycle: 1, ChunkBytes: chunk, SHA256: sourceHashes(src, chunk)}
	lost := bytes.Repeat([]byte{7}, chunk) // data the replica lacks
	h.SHA256[20] = sha(lost)
	h.SHA256[3] = ""                        // the replica has data the source does not
	h.SHA256[30] = sha(make([]byte, chunk)) // zeros hashed, not marked unallocated
	h.SHA256[40] = sha(make([]byte, chunk)) // the same over written zeros
	runs := d.diff(state.PointDisk{Blob: d.name}, size, h)
	want := []chunkRun{{Start: 3 << 20, End: 4 << 20, Zero: true}, {Start: 20 << 20, End: 21 << 20}}
	if !slices.Equal(runs, want) {
		t.Fatalf("runs %+v, want %+v", runs, want)
	}
	if wantBytes := int64(4096 + 1<<20 + 8192); d.store.readBytes != wantBytes {
		t.Fatalf("read %d bytes in %d reads, want only the %d valid bytes", d.store.readBytes, d.store.reads, wantBytes)
	}
	if d.store.listings != 1 {
		t.Fatalf("%d listings of the page ranges, want 1", d.store.listings)
	}
}

func TestDiffChunks_sparse_matchesFullRead(t *testing.T) {
	const size, chunk = 16<<20 + 1000, 64 << 10
	r := rand.New(rand.NewPCG(1, 2))
	d := newSparseDisk(t, size)
	d.store.limit = 3
	for range 60 {
		off := r.Int64N(size/storage.PageSize) * storage.PageSize
		n := min(r.Int64N(256)+1, (roundPage(size)-off)/storage.PageSize) * storage.PageSize
		if r.IntN(4) == 0 {
			if err := d.mem.ClearPages(d.ctx, d.name, off, n, storage.Cond{}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.IntN(3)) // zero pages happen
		}
		d.put(off, data)
	}
	id, err := d.mem.CreateSnapshot(d.ctx, d.name, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.put(0, bytes.Repeat([]byte{9}, 1<<20)) // after the snapshot
	blob, err := d.mem.Bytes(d.name, id)
	if err != nil {
		t.Fatal(err)
	}
	blob = blob[:size]
	hashes := sourceHashes(blob, chunk)
	for i := range hashes {
		switch r.IntN(4) {
		case 0:
			hashes[i] = sha([]byte{byte(i)}) // differs
		case 1:
			hashes[i] = ""
		}
	}
	got := d.diff(state.PointDisk{Blob: d.name, Snapshot: id}, size, DiskHashes{Cycle: 1, ChunkBytes: chunk, SHA256: hashes})
	if want := fullReadRuns(blob, chunk, hashes); !slices.Equal(got, want) {
		t.Fatalf("runs %+v\nwant %+v", got, want)
	}
	if d.store.listings < 10 || d.store.readBytes >= size {
		t.Fatalf("%d listings, %d bytes read: want many small listings and a partial read", d.store.listings, d.store.readBytes)
	}
}

// fullReadRuns is the comparison without page ranges: every chunk hashed.
func fullReadRuns(data []byte, chunk int64, hashes []string) []chunkRun {
	var out []chunkRun
	for i, want := range hashes {
		off := int64(i) * chunk
		c := data[off:min(off+chunk, int64(len(data)))]
		if sha(c) == want || (want == "" && allZero(c)) {
			continue
		}
		end := off + int64(len(c))
		if k := len(out) - 1; k >= 0 && out[k].End == off && out[k].Zero == (want == "") {
			out[k].End = end
			continue
		}
		out = append(out, chunkRun{Start: off, End: end, Zero: want == ""})
	}
	return out
}
