package upload

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/shared/storeerr"
)

type memBlockJournal struct {
	mu        sync.Mutex
	blocks    map[int]map[int]uint64
	committed map[int]bool
}

func (j *memBlockJournal) Committed(part int) (bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.committed[part], nil
}

func (j *memBlockJournal) MarkCommitted(part int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.committed == nil {
		j.committed = map[int]bool{}
	}
	j.committed[part] = true
	return nil
}

func (j *memBlockJournal) Blocks(part int) (map[int]uint64, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := map[int]uint64{}
	for k, v := range j.blocks[part] {
		out[k] = v
	}
	return out, nil
}

func (j *memBlockJournal) MarkBlock(part, index int, crc uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.blocks == nil {
		j.blocks = map[int]map[int]uint64{}
	}
	if j.blocks[part] == nil {
		j.blocks[part] = map[int]uint64{}
	}
	j.blocks[part][index] = crc
	return nil
}

// flakyBlocks fails staging after a number of blocks, like a killed agent.
type flakyBlocks struct {
	*mem.Store
	failAfter int64
	staged    atomic.Int64
	bytes     atomic.Int64
}

func (f *flakyBlocks) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	if f.failAfter >= 0 && f.staged.Add(1) > f.failAfter {
		return errCrash
	}
	f.bytes.Add(p.Size)
	return f.Store.StageBlock(ctx, name, id, p)
}

func TestObject_Run_resumesAndCommitsOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	payload := make([]byte, 10<<20+777)
	fill(rng, payload)
	produce := func(w io.Writer) error {
		// Write in odd pieces, as a streaming producer does.
		for off := 0; off < len(payload); {
			n := min(len(payload)-off, 1+rng.IntN(300<<10))
			if _, err := w.Write(payload[off : off+n]); err != nil {
				return err
			}
			off += n
		}
		return nil
	}
	st := mem.New()
	j := &memBlockJournal{}
	var sent int64
	for round := 0; ; round++ {
		fb := &flakyBlocks{Store: st, failAfter: int64(rng.IntN(4))}
		if round > 10 {
			fb.failAfter = -1
		}
		o := &Object{Store: fb, Blob: "cycle-7", Journal: j, BlockSize: 1 << 20, Threads: 3, Prog: &Progress{}, Produce: produce}
		err := o.Run(context.Background())
		sent += fb.bytes.Load()
		if err == nil {
			break
		}
		if !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if _, err := st.Properties(context.Background(), "cycle-7"); !errors.Is(err, storeerr.ErrNotFound) {
			t.Fatalf("round %d: a partial object is visible: %v", round, err)
		}
	}
	got, err := st.ReadBlob(context.Background(), "cycle-7")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("committed object differs from what the producer wrote")
	}
	// Resends are bounded by the blocks in flight at each crash.
	if limit := int64(len(payload)) + 11*4<<20; sent > limit {
		t.Fatalf("sent %d bytes for a %d-byte object", sent, len(payload))
	}
	// Running again after success is harmless and changes nothing, and a
	// lost commit answer (journal without the commit mark) is survived.
	j.committed = nil
	o := &Object{Store: st, Blob: "cycle-7", Journal: j, BlockSize: 1 << 20, Threads: 3, Prog: &Progress{}, Produce: produce}
	if err := o.Run(context.Background()); err != nil {
		t.Fatalf("repeat after commit: %v", err)
	}
	if o.Prog.Sent.Load() != 0 {
		t.Fatalf("repeat resent %d bytes", o.Prog.Sent.Load())
	}
}

func TestObject_Run_producerErrorFails(t *testing.T) {
	boom := errors.New("log is corrupt")
	o := &Object{Store: mem.New(), Blob: "x", Journal: &memBlockJournal{}, BlockSize: 1 << 20, Threads: 2, Prog: &Progress{},
		Produce: func(w io.Writer) error { w.Write(make([]byte, 3<<20)); return boom }}
	if err := o.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the producer's error", err)
	}
}
