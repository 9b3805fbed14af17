package applier_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/applier/applytest"
	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// runRandomCycles applies random cycles in order and, after each, records
// a point and compares every point so far with the model.
func runRandomCycles(t *testing.T, e *env, cycles int) {
	var points []recovery.Point
	for range cycles {
		c := e.next()
		res := e.apply(c)
		if res.AlreadyApplied {
			t.Fatalf("cycle %d reported as already applied", c)
		}
		e.checkReplicas(c)
		points = append(points, e.record(c))
		e.checkPoints(points)
	}
}

func TestApplier_Apply_randomCycles_matchModel(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		e := newMemEnv(t, seed(t, 1), mem.Config{})
		e.opt.MaxLength = 0 // every size up to 4 MiB + 512
		runRandomCycles(t, e, 5)
	})
	t.Run("azurite", func(t *testing.T) {
		e := newAzuriteEnv(t, azurite.Start(t), seed(t, 2))
		e.opt.MaxLength = 0
		runRandomCycles(t, e, 4)
	})
}

func TestApplier_Apply_duplicate_noop(t *testing.T) {
	e := newMemEnv(t, seed(t, 3), mem.Config{})
	c := e.next()
	e.apply(c)
	puts := e.fake.PutCount()
	for range 2 {
		res := e.apply(c)
		if !res.AlreadyApplied {
			t.Fatalf("second apply of cycle %d: %+v, want AlreadyApplied", c, res)
		}
	}
	if e.fake.PutCount() != puts {
		t.Fatalf("duplicate apply wrote %d pages", e.fake.PutCount()-puts)
	}
	e.checkReplicas(c)
}

func TestApplier_Apply_outOfOrder_heldAsGap(t *testing.T) {
	e := newMemEnv(t, seed(t, 4), mem.Config{})
	c1, c2, c3 := e.next(), e.next(), e.next()
	e.apply(c1)
	puts := e.fake.PutCount()
	_, err := e.ap.Apply(context.Background(), e.vm.Request(c3))
	var de *applier.DiskError
	if !errors.Is(err, applier.ErrGap) || !errors.As(err, &de) || de.Cycle != c3 || de.DiskID != e.vm.Disks[0].ID {
		t.Fatalf("apply %d at %d: %v, want ErrGap naming disk 0 and cycle %d", c3, c1, err, c3)
	}
	if e.fake.PutCount() != puts {
		t.Fatal("a held gap wrote pages")
	}
	e.checkReplicas(c1)
	e.apply(c2)
	e.apply(c3)
	e.checkReplicas(c3)
	if res := e.apply(c2); !res.AlreadyApplied { // a late, older manifest
		t.Fatalf("apply of an older cycle: %+v, want AlreadyApplied", res)
	}
	e.checkReplicas(c3)
}

func TestApplier_Apply_badObject_refusedAndNothingWritten(t *testing.T) {
	tests := []struct {
		name    string
		class   error
		corrupt func(e *env, objs [][]byte) // corrupts disk 2's object
	}{
		{"flippedBitHeader", applier.ErrObjectInvalid, func(e *env, o [][]byte) { o[2][e.rng.IntN(504)] ^= 1 << e.rng.IntN(8) }},
		{"flippedBitPayload", applier.ErrObjectInvalid, func(e *env, o [][]byte) {
			o[2][512+e.rng.IntN(len(o[2])-512-64-40)] ^= 1 << e.rng.IntN(8)
		}},
		{"flippedBitFooter", applier.ErrObjectInvalid, func(e *env, o [][]byte) { o[2][len(o[2])-1-e.rng.IntN(64)] ^= 1 << e.rng.IntN(8) }},
		{"truncated", applier.ErrObjectInvalid, func(e *env, o [][]byte) { o[2] = o[2][:len(o[2])-1] }},
		{"otherDisksObject", applier.ErrObjectInvalid, func(e *env, o [][]byte) { o[2] = o[0] }},
		{"missing", applier.ErrObjectMissing, func(e *env, o [][]byte) { o[2] = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newMemEnv(t, seed(t, 5), mem.Config{})
			e.apply(e.next())
			objs := e.build()
			tt.corrupt(e, objs)
			for i, o := range objs {
				if o != nil {
					if err := e.fake.Upload(context.Background(), e.vm.DeltaBlob(i, e.vm.Cycle), bytesReader(o)); err != nil {
						t.Fatal(err)
					}
				}
			}
			puts := e.fake.PutCount()
			_, err := e.ap.Apply(context.Background(), e.vm.Request(e.vm.Cycle))
			var de *applier.DiskError
			if !errors.Is(err, tt.class) || !errors.As(err, &de) || de.DiskID != e.vm.Disks[2].ID || de.Cycle != e.vm.Cycle {
				t.Fatalf("Apply: %v, want %v naming disk 2 and cycle %d", err, tt.class, e.vm.Cycle)
			}
			t.Logf("refused: %v", err)
			if e.fake.PutCount() != puts {
				t.Fatalf("refused cycle wrote %d pages", e.fake.PutCount()-puts)
			}
			e.checkReplicas(e.vm.Cycle - 1)
		})
	}
}

func TestApplier_Apply_progress_countsEveryByte(t *testing.T) {
	e := newMemEnv(t, seed(t, 6), mem.Config{})
	p := &progress{}
	e.ap = applier.New(e.store, applier.Config{InFlight: 3, SpoolDir: t.TempDir(), Progress: p, MaxClear: 1 << 20})
	c := e.next()
	res := e.apply(c)
	var want, got int64
	for i, d := range res.Disks {
		got += d.BytesWritten + d.BytesCleared
		for _, x := range e.vm.Plans[c][i] {
			want += x.Length
		}
	}
	if got != want || p.total.Load() != want {
		t.Fatalf("result counts %d bytes, progress %d, plans %d", got, p.total.Load(), want)
	}
}

type progress struct{ total atomic.Int64 }

func (p *progress) Applied(_, _ delta.ID, _ uint64, n int64) { p.total.Add(n) }

// pausing blocks the first page write until released, so a test can move
// the fence while an applier has passed its checks.
type pausing struct {
	storage.Store
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func newPausing(s storage.Store) *pausing {
	return &pausing{Store: s, reached: make(chan struct{}), release: make(chan struct{})}
}

func (p *pausing) wait() {
	p.once.Do(func() { close(p.reached); <-p.release })
}

func (p *pausing) PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, c storage.Cond) error {
	p.wait()
	return p.Store.PutPages(ctx, name, off, data, crc, c)
}

func (p *pausing) ClearPages(ctx context.Context, name string, off, n int64, c storage.Cond) error {
	p.wait()
	return p.Store.ClearPages(ctx, name, off, n, c)
}

// runStaleApplier: A passes its checks for cycle N+1 and pauses; B applies
// N+1 and N+2; A resumes and must be refused by the fence, leaving the
// replicas at N+2.
func runStaleApplier(t *testing.T, e *env) {
	e.apply(e.next())
	n1, n2 := e.next(), e.next()
	p := newPausing(e.store)
	a := applier.New(p, applier.Config{InFlight: 4, SpoolDir: t.TempDir()})
	errc := make(chan error, 1)
	go func() {
		_, err := a.Apply(context.Background(), e.vm.Request(n1))
		errc <- err
	}()
	<-p.reached
	e.apply(n1) // B
	e.apply(n2)
	close(p.release)
	err := <-errc
	if !errors.Is(err, applier.ErrFenced) || !errors.Is(err, storeerr.ErrConditionNotMet) {
		t.Fatalf("stale applier: %v, want ErrFenced and storeerr.ErrConditionNotMet", err)
	}
	t.Logf("stale applier refused: %v", err)
	e.checkReplicas(n2)
}

func TestApplier_Apply_staleApplier_fenced(t *testing.T) {
	t.Run("fake", func(t *testing.T) { runStaleApplier(t, newMemEnv(t, seed(t, 7), mem.Config{})) })
	t.Run("azurite", func(t *testing.T) {
		runStaleApplier(t, newAzuriteEnv(t, azurite.Start(t), seed(t, 8)))
	})
}

func TestApplier_Apply_badRequest(t *testing.T) {
	e := newMemEnv(t, seed(t, 9), mem.Config{})
	good := e.vm.Request(1)
	tests := []struct {
		name   string
		mutate func(r *applier.VMCycle)
		class  error
	}{
		{"cycleZero", func(r *applier.VMCycle) { r.Cycle = 0 }, applier.ErrRequest},
		{"noDisks", func(r *applier.VMCycle) { r.Disks = nil }, applier.ErrRequest},
		{"duplicateDisk", func(r *applier.VMCycle) { r.Disks[1].DiskID = r.Disks[0].DiskID }, applier.ErrRequest},
		{"unalignedSize", func(r *applier.VMCycle) { r.Disks[0].VirtualSize++ }, applier.ErrRequest},
		{"replicaMissing", func(r *applier.VMCycle) { r.Disks[1].ReplicaBlob = "hvm/none" }, applier.ErrReplica},
		{"replicaWrongSize", func(r *applier.VMCycle) { r.Disks[1].VirtualSize += 2 << 20 }, applier.ErrReplica},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			r.Disks = append([]applier.DiskCycle(nil), good.Disks...)
			tt.mutate(&r)
			if _, err := e.ap.Apply(context.Background(), r); !errors.Is(err, tt.class) {
				t.Fatalf("Apply: %v, want %v", err, tt.class)
			}
		})
	}
}

func TestApplier_Apply_cancelled_sequenceNotRaised(t *testing.T) {
	e := newMemEnv(t, seed(t, 10), mem.Config{})
	c := e.next()
	ctx, cancel := context.WithCancel(context.Background())
	p := newPausing(e.store)
	ap := applier.New(p, applier.Config{InFlight: 2, SpoolDir: t.TempDir()})
	errc := make(chan error, 1)
	go func() {
		_, err := ap.Apply(ctx, e.vm.Request(c))
		errc <- err
	}()
	<-p.reached
	cancel()
	close(p.release)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply: %v, want context.Canceled", err)
	}
	for i := range e.vm.Disks {
		if seq, _ := applytest.SequenceNumber(context.Background(), e.store, e.vm.ReplicaBlob(i)); seq != 0 {
			t.Fatalf("disk %d at sequence %d after a cancelled apply", i, seq)
		}
	}
	e.apply(c)
	e.checkReplicas(c)
}
