package recovery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a VM of two replica disks on the fake.
type fixture struct {
	t     *testing.T
	blobs *mem.Store
	store *recovery.MemStore
	clock *fakeClock
	m     *recovery.Manager
	vm    delta.ID
	disks []recovery.Disk
}

func newFixture(t *testing.T, hooks mem.Config) *fixture {
	f := &fixture{t: t, blobs: mem.New(hooks), store: recovery.NewMemStore(),
		clock: &fakeClock{now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, vm: delta.ID{1}}
	f.blobs.CreateContainer("hvm")
	for i := range 2 {
		d := recovery.Disk{DiskID: delta.ID{2, byte(i)}, Blob: fmt.Sprintf("hvm/r/%d.vhd", i)}
		if err := f.blobs.CreatePageBlob(context.Background(), d.Blob, 1<<20+512); err != nil {
			t.Fatal(err)
		}
		f.disks = append(f.disks, d)
	}
	f.m = recovery.New(f.blobs, f.store, recovery.Config{Policy: recovery.DefaultPolicy(), Clock: f.clock})
	return f
}

// advanceTo writes a marker of the cycle to each disk and raises its
// sequence number, as the applier would.
func (f *fixture) advanceTo(cycle uint64) {
	ctx := context.Background()
	for _, d := range f.disks {
		page := make([]byte, 512)
		page[0], page[1] = byte(cycle), byte(cycle>>8)
		if err := f.blobs.PutPages(ctx, d.Blob, 0, page, storage.CRC64(page), storage.IfSequenceLE(int64(cycle-1))); err != nil {
			f.t.Fatal(err)
		}
		if err := f.blobs.SetSequenceNumber(ctx, d.Blob, int64(cycle)); err != nil {
			f.t.Fatal(err)
		}
	}
}

// cycles returns the recorded cycles.
func (f *fixture) cycles() []uint64 {
	pts, err := f.store.Points(context.Background(), f.vm)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []uint64
	for _, p := range pts {
		out = append(out, p.Cycle)
	}
	return out
}

// snapshots returns how many snapshots each disk has.
func (f *fixture) snapshots() []int {
	var out []int
	for _, d := range f.disks {
		s, err := f.blobs.ListSnapshots(context.Background(), d.Blob)
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, len(s))
	}
	return out
}

func TestManager_Record_snapshotsEveryDisk(t *testing.T) {
	f := newFixture(t, mem.Config{})
	ctx := context.Background()
	f.advanceTo(1)
	p, err := f.m.Record(ctx, f.vm, 1, f.disks)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cycle != 1 || p.Consistency != recovery.CrashConsistent || len(p.Disks) != 2 || !p.Time.Equal(f.clock.Now()) {
		t.Fatalf("point = %+v", p)
	}
	f.advanceTo(2) // the live disks move on; the point must not
	for _, d := range p.Disks {
		b, err := f.blobs.Bytes(d.Blob, d.Snapshot)
		if err != nil || b[0] != 1 {
			t.Fatalf("snapshot of %s holds cycle %d (%v), want 1", d.Blob, b[0], err)
		}
	}
	again, err := f.m.Record(ctx, f.vm, 1, f.disks) // duplicate: same point
	if err != nil || again.Disks[0].Snapshot != p.Disks[0].Snapshot {
		t.Fatalf("second Record: %+v, %v", again, err)
	}
	if got := f.snapshots(); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("snapshots per disk %v, want [1 1]", got)
	}
}

func TestManager_Record_notAtCycle_refused(t *testing.T) {
	tests := []struct {
		name  string
		at    uint64
		class error
	}{
		{"behind", 1, recovery.ErrNotReady},
		{"ahead", 3, recovery.ErrMoved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, mem.Config{})
			for c := uint64(1); c <= tt.at; c++ {
				f.advanceTo(c)
			}
			_, err := f.m.Record(context.Background(), f.vm, 2, f.disks)
			if !errors.Is(err, tt.class) {
				t.Fatalf("Record: %v, want %v", err, tt.class)
			}
			if got := f.snapshots(); !slices.Equal(got, []int{0, 0}) {
				t.Fatalf("snapshots %v after a refused Record", got)
			}
		})
	}
}

func TestManager_Record_interrupted_reusesSnapshots(t *testing.T) {
	fail := true
	f := newFixture(t, mem.Config{Before: func(c mem.Call) error {
		if fail && c.Op == "create snapshot" && c.Name == "hvm/r/1.vhd" {
			return &storeerr.Error{Op: c.Op, Class: storeerr.ErrTransient}
		}
		return nil
	}})
	f.advanceTo(1)
	if _, err := f.m.Record(context.Background(), f.vm, 1, f.disks); err == nil {
		t.Fatal("Record succeeded despite the failure")
	}
	fail = false
	if _, err := f.m.Record(context.Background(), f.vm, 1, f.disks); err != nil {
		t.Fatal(err)
	}
	if got := f.snapshots(); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("snapshots %v, want [1 1]: the retry must reuse disk 0's snapshot", got)
	}
}

func TestManager_Prune_policy(t *testing.T) {
	f := newFixture(t, mem.Config{})
	ctx := context.Background()
	// 60 cycles, one every 30 minutes: 30 hours.
	for c := uint64(1); c <= 60; c++ {
		f.advanceTo(c)
		if _, err := f.m.Record(ctx, f.vm, c, f.disks); err != nil {
			t.Fatal(err)
		}
		f.clock.advance(30 * time.Minute)
	}
	f.clock.advance(-30 * time.Minute) // now = time of cycle 60
	removed, err := f.m.Prune(ctx, f.vm)
	if err != nil {
		t.Fatal(err)
	}
	// Cycle c was recorded (c-1)/2 hours after the start, so hour slot k
	// holds cycles 2k+1 and 2k+2, and the newest of each is the even one.
	// The 24 h window from cycle 60 (29.5 h) reaches back to 5.5 h, cycle
	// 12: kept are 12, 14, ..., 60 (60 also as the latest).
	var want []uint64
	for c := uint64(12); c <= 60; c += 2 {
		want = append(want, c)
	}
	if got := f.cycles(); !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	if len(removed) != 60-len(want) {
		t.Fatalf("removed %d points, want %d", len(removed), 60-len(want))
	}
	if got := f.snapshots(); !slices.Equal(got, []int{len(want), len(want)}) {
		t.Fatalf("snapshots per disk %v, want %d each", got, len(want))
	}
	f.clock.advance(48 * time.Hour)
	if _, err := f.m.Prune(ctx, f.vm); err != nil {
		t.Fatal(err)
	}
	if got := f.cycles(); !slices.Equal(got, []uint64{60}) {
		t.Fatalf("after 48 h kept %v, want [60]: the latest stays", got)
	}
}

func TestManager_Prune_interrupted_resumes(t *testing.T) {
	var deletes int
	f := newFixture(t, mem.Config{Before: func(c mem.Call) error {
		if c.Op == "delete snapshot" {
			deletes++
			if deletes == 2 { // die mid-prune: first snapshot gone, second not
				return errors.New("hub killed")
			}
		}
		return nil
	}})
	ctx := context.Background()
	for c := uint64(1); c <= 2; c++ {
		f.advanceTo(c)
		if _, err := f.m.Record(ctx, f.vm, c, f.disks); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.m.Prune(ctx, f.vm); err == nil {
		t.Fatal("Prune succeeded despite the kill")
	}
	pts, _ := f.store.Points(ctx, f.vm)
	if len(pts) != 2 || pts[0].State != recovery.Deleting {
		t.Fatalf("after the kill: %+v, want point 1 marked Deleting", pts)
	}
	if _, err := f.m.Record(ctx, f.vm, 1, f.disks); !errors.Is(err, recovery.ErrDeleting) {
		t.Fatalf("Record of a point being deleted: %v", err)
	}
	// Restarted with a policy that would keep both points: the recorded
	// intent still wins for point 1.
	m := recovery.New(f.blobs, f.store, recovery.Config{Policy: recovery.Policy{KeepLatest: 5}, Clock: f.clock})
	if _, err := m.Prune(ctx, f.vm); err != nil {
		t.Fatal(err)
	}
	if got := f.cycles(); !slices.Equal(got, []uint64{2}) {
		t.Fatalf("kept %v, want [2]", got)
	}
	if got := f.snapshots(); !slices.Equal(got, []int{1, 1}) {
		t.Fatalf("snapshots %v, want [1 1]", got)
	}
}

func TestManager_Sweep_deletesOrphans(t *testing.T) {
	f := newFixture(t, mem.Config{})
	ctx := context.Background()
	f.advanceTo(1)
	if _, err := f.m.Record(ctx, f.vm, 1, f.disks); err != nil {
		t.Fatal(err)
	}
	tag := map[string]string{"hvm_vm": fmt.Sprintf("%x", f.vm), "hvm_cycle": "7"}
	if _, err := f.blobs.CreateSnapshot(ctx, f.disks[0].Blob, tag); err != nil { // an orphan
		t.Fatal(err)
	}
	if _, err := f.blobs.CreateSnapshot(ctx, f.disks[0].Blob, map[string]string{"other": "x"}); err != nil { // not ours
		t.Fatal(err)
	}
	n, err := f.m.Sweep(ctx, f.vm, []string{f.disks[0].Blob, f.disks[1].Blob})
	if err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want 1", n, err)
	}
	if got := f.snapshots(); !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("snapshots %v, want [2 1]", got)
	}
}

func TestRetained_table(t *testing.T) {
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	pt := func(c uint64, ago time.Duration) recovery.Point {
		return recovery.Point{Cycle: c, Time: base.Add(-ago)}
	}
	tests := []struct {
		name   string
		points []recovery.Point
		policy recovery.Policy
		want   []uint64
	}{
		{"empty", nil, recovery.DefaultPolicy(), nil},
		{"latestOnly_whenOld", []recovery.Point{pt(1, 50*time.Hour), pt(2, 49*time.Hour)}, recovery.DefaultPolicy(), []uint64{2}},
		{"onePerHour", []recovery.Point{pt(1, 150*time.Minute), pt(2, 130*time.Minute), pt(3, 90*time.Minute), pt(4, 10*time.Minute), pt(5, 5*time.Minute)},
			recovery.DefaultPolicy(), []uint64{2, 3, 5}},
		{"keepLatest3", []recovery.Point{pt(1, 50*time.Hour), pt(2, 49*time.Hour), pt(3, 48*time.Hour+time.Minute), pt(4, 48*time.Hour)},
			recovery.Policy{KeepLatest: 3}, []uint64{2, 3, 4}},
		{"deletingIgnored", []recovery.Point{pt(1, time.Minute), {Cycle: 2, Time: base, State: recovery.Deleting}},
			recovery.DefaultPolicy(), []uint64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keep := recovery.Retained(tt.points, tt.policy, base)
			var got []uint64
			for c := range keep {
				got = append(got, c)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("kept %v, want %v", got, tt.want)
			}
		})
	}
}
