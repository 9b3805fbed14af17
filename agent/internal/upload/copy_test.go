package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"maps"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/shared/vdisk"
)

// memImage is a virtual disk in memory whose extent map is given: the
// allocation map need not match the content (allocated blocks may hold
// zeros), as in real dynamic disks.
type memImage struct {
	data    []byte
	extents []vdisk.Extent
}

func (m *memImage) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.data)) {
		return 0, io.EOF
	}
	n := copy(p, m.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (m *memImage) Close() error                { return nil }
func (m *memImage) Size() int64                 { return int64(len(m.data)) }
func (m *memImage) LogicalSectorSize() int      { return 512 }
func (m *memImage) PhysicalSectorSize() int     { return 512 }
func (m *memImage) Identity() vdisk.Identity    { return vdisk.Identity{} }
func (m *memImage) Describe() vdisk.Description { return vdisk.Description{Format: "raw"} }
func (m *memImage) Extents() iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		for _, e := range m.extents {
			if !yield(e, nil) {
				return
			}
		}
	}
}

// randomImage builds a disk of size bytes allocated in blocks of block
// bytes with probability pAlloc; allocated blocks hold random data at
// random sectors (some stay all zero).
func randomImage(rng *rand.Rand, size, block int64, pAlloc float64) *memImage {
	m := &memImage{data: make([]byte, size)}
	for off := int64(0); off < size; off += block {
		n := min(block, size-off)
		kind := vdisk.KindZero
		if rng.Float64() < pAlloc {
			kind = vdisk.KindData
			for s := off; s < off+n; s += 512 {
				if rng.IntN(3) == 0 {
					fill(rng, m.data[s:s+512])
				}
			}
		}
		m.extents = append(m.extents, vdisk.Extent{Offset: off, Length: n, Kind: kind})
	}
	return m
}

func fill(rng *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// memJournal is a CopyJournal in memory.
type memJournal struct {
	mu     sync.Mutex
	size   int64
	done   map[int64]bool
	footer bool
}

func (j *memJournal) Load() (int64, map[int64]bool, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	done := map[int64]bool{}
	for k := range j.done {
		done[k] = true
	}
	return j.size, done, j.footer, nil
}
func (j *memJournal) Begin(size int64) error { j.size, j.done = size, map[int64]bool{}; return nil }
func (j *memJournal) MarkChunk(i int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done[i] = true
	return nil
}
func (j *memJournal) MarkFooter() error { j.footer = true; return nil }

// crashingStore fails every write after the first failAfter, as a process
// killed in the middle of a copy would stop writing.
type crashingStore struct {
	*mem.Store
	failAfter int64
	writes    atomic.Int64
	sent      atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (s *crashingStore) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	if s.failAfter >= 0 && s.writes.Add(1) > s.failAfter {
		return errCrash
	}
	s.sent.Add(p.Size)
	return s.Store.WritePages(ctx, name, off, p)
}

func footerFor(t *testing.T) []byte {
	t.Helper()
	f := make([]byte, 512)
	copy(f, "conectix-test-footer")
	return f
}

// checkReplica downloads the blob and compares it with the image, the
// zero padding to a whole MiB, and the footer.
func checkReplica(t *testing.T, st *mem.Store, img *memImage, footer []byte) {
	t.Helper()
	got, err := st.ReadBlob(context.Background(), "disk.vhd")
	if err != nil {
		t.Fatal(err)
	}
	dataSize := roundUp(img.Size(), 1<<20)
	if int64(len(got)) != dataSize+512 {
		t.Fatalf("blob is %d bytes, want %d", len(got), dataSize+512)
	}
	if !bytes.Equal(got[:img.Size()], img.data) {
		t.Fatal("replica data differs from the disk")
	}
	if !bytes.Equal(got[img.Size():dataSize], make([]byte, dataSize-img.Size())) {
		t.Fatal("padding is not zero")
	}
	if !bytes.Equal(got[dataSize:], footer) {
		t.Fatal("footer differs")
	}
	if v := st.Stats().Violations; v != 0 {
		t.Fatalf("%d malformed requests", v)
	}
}

func TestCopy_Run_matchesDisk(t *testing.T) {
	for _, threads := range []int{1, 4, 32} {
		rng := rand.New(rand.NewPCG(uint64(threads), 7))
		img := randomImage(rng, 13<<20+3*512, 256<<10, 0.5)
		st := mem.New()
		c := &Copy{Image: img, Store: st, Blob: "disk.vhd", Footer: footerFor(t), Journal: &memJournal{},
			Config: DefaultCopyConfig(), Prog: &Progress{}}
		c.Config.Threads = threads
		if err := c.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkReplica(t, st, img, c.Footer)
		s := c.Prog.Snapshot(time.Now())
		if s.Done != img.Size() || s.Sent+s.Skipped != img.Size() {
			t.Fatalf("threads %d: progress %+v does not add up to %d", threads, s, img.Size())
		}
		if st.Stats().MaxPutPage > blob.MaxPutPage {
			t.Fatalf("a Put Page of %d bytes", st.Stats().MaxPutPage)
		}
	}
}

// TestCopy_Run_resumesAfterCrash stops the copy after a random number of
// writes, many times over, and checks that every resumed run finishes the
// replica exactly and resends at most the in-flight window.
func TestCopy_Run_resumesAfterCrash(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	img := randomImage(rng, 24<<20, 1<<20, 0.7)
	st := mem.New()
	j := &memJournal{}
	cfg := DefaultCopyConfig()
	var totalSent int64
	for round := 0; ; round++ {
		cs := &crashingStore{Store: st, failAfter: int64(rng.IntN(12))}
		if round > 20 {
			cs.failAfter = -1
		}
		c := &Copy{Image: img, Store: cs, Blob: "disk.vhd", Footer: footerFor(t), Journal: j, Config: cfg, Prog: &Progress{}}
		err := c.Run(context.Background())
		totalSent += cs.sent.Load()
		if err == nil {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	checkReplica(t, st, img, footerFor(t))
	var data int64
	for _, e := range img.extents {
		if e.Kind == vdisk.KindData {
			data += e.Length
		}
	}
	// Each crash may lose at most the chunks in flight.
	window := int64(cfg.Threads) * cfg.chunkSizeFor()
	if limit := data + 21*window; totalSent > limit {
		t.Fatalf("sent %d bytes in all, more than the data %d plus 21 in-flight windows", totalSent, data)
	}
}

// TestCopy_Run_zeroChunksNotJournaled checks that a chunk of allocated
// zeros costs no journal mark, and that a copy run again over the finished
// journal rescans it and still writes nothing.
func TestCopy_Run_zeroChunksNotJournaled(t *testing.T) {
	const chunk = 4 << 20
	img := &memImage{data: make([]byte, 3*chunk)}
	img.extents = []vdisk.Extent{{Offset: 0, Length: 3 * chunk, Kind: vdisk.KindData}}
	img.data[5] = 1         // chunk 0 holds data
	img.data[2*chunk+9] = 2 // chunk 2 too; chunk 1 is allocated zeros
	st := mem.New()
	j := &memJournal{}
	c := &Copy{Image: img, Store: st, Blob: "disk.vhd", Footer: footerFor(t), Journal: j,
		Config: DefaultCopyConfig(), Prog: &Progress{}}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkReplica(t, st, img, c.Footer)
	if want := map[int64]bool{0: true, 2: true}; !maps.Equal(j.done, want) {
		t.Fatalf("journal holds chunks %v, want %v", j.done, want)
	}
	again := &crashingStore{Store: st, failAfter: 0}
	c = &Copy{Image: img, Store: again, Blob: "disk.vhd", Footer: footerFor(t), Journal: j,
		Config: DefaultCopyConfig(), Prog: &Progress{}}
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("second run over a finished journal: %v", err)
	}
	checkReplica(t, st, img, c.Footer)
}

func TestCopyConfig_chunkSizeFor(t *testing.T) {
	tests := []struct {
		threads int
		budget  int64
		want    int64
	}{
		{threads: 4, budget: 64 << 20, want: 4 << 20},
		{threads: 32, budget: 64 << 20, want: 1 << 20},
		{threads: 32, budget: 1 << 20, want: 256 << 10},
	}
	for _, tt := range tests {
		c := CopyConfig{Threads: tt.threads, MemoryBudget: tt.budget}
		if got := c.chunkSizeFor(); got != tt.want {
			t.Errorf("threads %d budget %d: chunk %d, want %d", tt.threads, tt.budget, got, tt.want)
		}
	}
}
