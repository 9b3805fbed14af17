package applier_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/applier/applytest"
	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// errKilled stands for the hub process dying: the request it was making and
// every later one never happen.
var errKilled = errors.New("hub killed")

// killSwitch decides, request by request, when the simulated hub dies: at
// the kill-th mutating request, before it takes effect or just after (its
// answer lost with the process).
type killSwitch struct {
	mu    sync.Mutex
	kill  int  // 0: never
	after bool // the kill-th request takes effect first
	count int
	dead  bool
}

// mutating reports whether a request changes storage.
func mutating(op string) bool {
	switch op {
	case "put pages", "clear pages", "set sequence number", "create snapshot", "delete snapshot":
		return true
	}
	return false
}

func (k *killSwitch) before(c mem.Call) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return errKilled
	}
	if mutating(c.Op) {
		k.count++
		if k.count == k.kill && !k.after {
			k.dead = true
			return errKilled
		}
	}
	return nil
}

func (k *killSwitch) afterHook(c mem.Call) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if mutating(c.Op) && k.count == k.kill && k.after && !k.dead {
		k.dead = true
		return errKilled
	}
	return nil
}

// revive lets requests through again, as a restarted hub's would.
func (k *killSwitch) revive() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead, k.kill = false, 0
}

// crashDiskSizes keep each kill point cheap: three small disks, one
// crossing a 4 MiB boundary, none a whole MiB.
var crashDiskSizes = []int64{4<<20 + 1536, 1<<20 + 512, 64<<10 + 1024}

// crashCase is a VM with prebuilt cycles, shared by every kill point.
type crashCase struct {
	vm   *applytest.VM
	objs map[uint64][][]byte
}

func newCrashCase(t *testing.T, s uint64, cycles int) *crashCase {
	rng := rand.New(rand.NewPCG(s, 1))
	c := &crashCase{vm: applytest.NewVM("hvm", crashDiskSizes, rng), objs: map[uint64][][]byte{}}
	for range cycles {
		objs, err := c.vm.NextCycle(rng, applytest.PlanOptions{MaxExtents: 6, Compression: 1, MaxLength: 64 << 10})
		if err != nil {
			t.Fatal(err)
		}
		c.objs[c.vm.Cycle] = objs
	}
	return c
}

// hubLoop is what the hub does for the VM: apply each cycle in order and
// record its point, then prune.
func hubLoop(ctx context.Context, ap *applier.Applier, rec *recovery.Manager, vm *applytest.VM, disks []recovery.Disk) error {
	for c := uint64(1); c <= vm.Cycle; c++ {
		if _, err := ap.Apply(ctx, vm.Request(c)); err != nil {
			return err
		}
		if _, err := rec.Record(ctx, vm.ID, c, disks); err != nil {
			return err
		}
	}
	return nil
}

// run plays one kill point and returns the mutating requests the crashed
// hub made.
func (cc *crashCase) run(t *testing.T, kill int, after bool) int {
	ctx := context.Background()
	ks := &killSwitch{kill: kill, after: after}
	f := mem.New(mem.Config{Before: ks.before, After: ks.afterHook,
		OnViolation: func(m string) { t.Errorf("storage violation: %s", m) }})
	f.CreateContainer("hvm")
	if err := cc.vm.CreateReplicas(ctx, f); err != nil {
		t.Fatal(err)
	}
	for c, objs := range cc.objs {
		if err := cc.vm.Upload(ctx, f, c, objs); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{t: t, store: f, fake: f, vm: cc.vm}
	points := recovery.NewMemStore() // the hub's database survives the crash
	err := hubLoop(ctx, applier.New(f, applier.Config{InFlight: 4, SpoolDir: t.TempDir()}),
		recovery.New(f, points, recovery.Config{}), cc.vm, e.disks())
	if kill > 0 && !errors.Is(err, errKilled) && err != nil {
		t.Fatalf("kill %d: hub failed with %v, not the kill", kill, err)
	}
	made := ks.count
	ks.revive()
	cc.checkNotAhead(t, f)
	rec := recovery.New(f, points, recovery.Config{})
	if err := hubLoop(ctx, applier.New(f, applier.Config{InFlight: 4, SpoolDir: t.TempDir()}), rec, cc.vm, e.disks()); err != nil {
		t.Fatalf("kill %d (after=%t): restarted hub: %v", kill, after, err)
	}
	all, _ := points.Points(ctx, cc.vm.ID)
	if len(all) != int(cc.vm.Cycle) {
		t.Fatalf("kill %d: %d recovery points, want %d", kill, len(all), cc.vm.Cycle)
	}
	e.checkPoints(all)
	e.checkReplicas(cc.vm.Cycle)
	cc.checkNoOrphans(t, f, len(all))
	return made
}

// checkNotAhead checks every disk's sequence number against its bytes.
func (cc *crashCase) checkNotAhead(t *testing.T, s storage.Store) {
	for i := range cc.vm.Disks {
		seq, err := applytest.SequenceNumber(context.Background(), s, cc.vm.ReplicaBlob(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := cc.vm.CheckNotAhead(context.Background(), s, i, uint64(seq)); err != nil {
			t.Fatalf("after the crash: %v", err)
		}
	}
}

// checkNoOrphans checks that every disk has exactly one snapshot per point.
func (cc *crashCase) checkNoOrphans(t *testing.T, s storage.Store, points int) {
	for i := range cc.vm.Disks {
		snaps, err := s.ListSnapshots(context.Background(), cc.vm.ReplicaBlob(i))
		if err != nil || len(snaps) != points {
			t.Fatalf("disk %d has %d snapshots (%v), want %d", i, len(snaps), err, points)
		}
	}
}

func TestApplier_Apply_killedAtFailpoints_recovers(t *testing.T) {
	s := seed(t, 11)
	cc := newCrashCase(t, s, 4)
	total := cc.run(t, 0, false) // no kill: count the mutating requests
	rng := rand.New(rand.NewPCG(s, 2))
	points := rng.Perm(2 * total) // kill point k, before or after the request
	const want = 60
	if len(points) > want {
		points = points[:want]
	}
	t.Logf("%d mutating requests in a clean run; %d kill points", total, len(points))
	if len(points) < 50 {
		t.Fatalf("only %d kill points; want at least 50", len(points))
	}
	for _, p := range points {
		cc.run(t, p/2+1, p%2 == 1)
	}
}
