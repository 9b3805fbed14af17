package applier_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/goleak"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/applier/applytest"
	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/hub/internal/storage/mem"
	"hvmigrate/integration/azurite"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childMain())
	}
	goleak.VerifyTestMain(m)
}

// diskSizes are the three test disks: none a whole MiB, one above 8 MiB
// so extents cross two 4 MiB boundaries.
var diskSizes = []int64{9<<20 + 3*512, 4<<20 + 512, 1<<20 + 1024}

// seed returns the test's seed: $HVM_TEST_SEED or a fixed default, logged
// so a failure can be replayed.
func seed(t testing.TB, def uint64) uint64 {
	if v := os.Getenv("HVM_TEST_SEED"); v != "" {
		if s, err := strconv.ParseUint(v, 10, 64); err == nil {
			def = s
		}
	}
	t.Logf("seed %d (replay with HVM_TEST_SEED)", def)
	return def
}

// env is one VM under test on one store.
type env struct {
	t     testing.TB
	store storage.Store
	fake  *mem.Store // nil on Azurite
	vm    *applytest.VM
	rng   *rand.Rand
	ap    *applier.Applier
	rec   *recovery.Manager
	opt   applytest.PlanOptions
}

// newMemEnv returns an env on the fake, whose violations fail the test.
func newMemEnv(t testing.TB, s uint64, hooks mem.Config) *env {
	hooks.OnViolation = func(msg string) { t.Errorf("storage violation: %s", msg) }
	f := mem.New(hooks)
	f.CreateContainer("hvm")
	e := newEnv(t, f, s)
	e.fake = f
	return e
}

var containerSeq atomic.Int64

// newAzuriteEnv returns an env on a fresh container of srv.
func newAzuriteEnv(t testing.TB, srv *azurite.Server, s uint64) *env {
	ctr := fmt.Sprintf("apply-%d", containerSeq.Add(1))
	if err := srv.CreateContainer(context.Background(), ctr); err != nil {
		t.Fatal(err)
	}
	e := newEnvIn(t, azureStore(t, srv), s, ctr)
	return e
}

// azureStore connects to the emulator.
func azureStore(t testing.TB, srv *azurite.Server) *azure.Store {
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.RootCAs = srv.Endpoint, srv.RootCAs
	cfg.Credential = azure.SharedKey(srv.Account, srv.Key)
	st, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEnv(t testing.TB, st storage.Store, s uint64) *env { return newEnvIn(t, st, s, "hvm") }

func newEnvIn(t testing.TB, st storage.Store, s uint64, ctr string) *env {
	rng := rand.New(rand.NewPCG(s, s^0x5eed))
	e := &env{t: t, store: st, rng: rng, vm: applytest.NewVM(ctr, diskSizes, rng),
		opt: applytest.PlanOptions{MaxExtents: 6, MaxLength: 1 << 20}}
	e.ap = applier.New(st, applier.Config{InFlight: 4, SpoolDir: t.TempDir(), Logger: testLogger(t)})
	e.rec = recovery.New(st, recovery.NewMemStore(), recovery.Config{})
	if err := e.vm.CreateReplicas(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return e
}

// testLogger logs through the test.
func testLogger(t testing.TB) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// build draws the next cycle and returns its objects without uploading.
func (e *env) build() [][]byte {
	e.t.Helper()
	e.opt.Compression ^= 1 // alternate raw and zstd objects
	objs, err := e.vm.NextCycle(e.rng, e.opt)
	if err != nil {
		e.t.Fatalf("build cycle: %v", err)
	}
	return objs
}

// upload uploads a cycle's objects.
func (e *env) upload(cycle uint64, objs [][]byte) {
	e.t.Helper()
	if err := e.vm.Upload(context.Background(), e.store, cycle, objs); err != nil {
		e.t.Fatalf("upload cycle %d: %v", cycle, err)
	}
}

// next builds and uploads the next cycle and returns its number.
func (e *env) next() uint64 {
	objs := e.build()
	e.upload(e.vm.Cycle, objs)
	return e.vm.Cycle
}

// apply applies a cycle and fails the test on error.
func (e *env) apply(cycle uint64) applier.Result {
	e.t.Helper()
	res, err := e.ap.Apply(context.Background(), e.vm.Request(cycle))
	if err != nil {
		e.t.Fatalf("apply cycle %d: %v", cycle, err)
	}
	return res
}

// disks lists the replica disks for recovery points.
func (e *env) disks() []recovery.Disk {
	var out []recovery.Disk
	for i, d := range e.vm.Disks {
		out = append(out, recovery.Disk{DiskID: d.ID, Blob: e.vm.ReplicaBlob(i)})
	}
	return out
}

// record records the recovery point of a cycle.
func (e *env) record(cycle uint64) recovery.Point {
	e.t.Helper()
	p, err := e.rec.Record(context.Background(), e.vm.ID, cycle, e.disks())
	if err != nil {
		e.t.Fatalf("record point %d: %v", cycle, err)
	}
	return p
}

// checkPoints compares every snapshot of every point with the model at
// its cycle, byte for byte.
func (e *env) checkPoints(points []recovery.Point) {
	e.t.Helper()
	for _, p := range points {
		for i, d := range p.Disks {
			if err := applytest.Compare(context.Background(), e.store, d.Blob, d.Snapshot, e.vm.History[p.Cycle][i]); err != nil {
				e.t.Fatalf("recovery point %d: %v", p.Cycle, err)
			}
		}
	}
}

// checkReplicas compares the live replicas with the model at a cycle and
// checks their sequence numbers.
func (e *env) checkReplicas(cycle uint64) {
	e.t.Helper()
	for i := range e.vm.Disks {
		if err := applytest.Compare(context.Background(), e.store, e.vm.ReplicaBlob(i), "", e.vm.History[cycle][i]); err != nil {
			e.t.Fatalf("replica at cycle %d: %v", cycle, err)
		}
		if seq, err := applytest.SequenceNumber(context.Background(), e.store, e.vm.ReplicaBlob(i)); err != nil || uint64(seq) != cycle {
			e.t.Fatalf("replica %d sequence number %d (%v), want %d", i, seq, err, cycle)
		}
	}
}
