package driver_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/agentclient"
	simbackend "hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/driver/fakehub"
	"hvmigrate/provider/internal/replication/preflight"
	"hvmigrate/provider/internal/replication/store"
	"hvmigrate/shared/units"
)

// fakeAgent finishes every job at once; uploads fail with a corrupt
// source while corrupt is set.
type fakeAgent struct {
	mu      sync.Mutex
	jobs    map[string]agentclient.Job
	corrupt bool
}

func (a *fakeAgent) put(j agentclient.Job) agentclient.Job {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.jobs[j.ID] = j
	return j
}

func (a *fakeAgent) StartInitialCopy(_ context.Context, s agentclient.InitialCopy) (agentclient.Job, error) {
	return a.put(agentclient.Job{ID: s.JobID, VMID: s.VMID, State: agentclient.JobSucceeded, BytesTotal: 1 << 20, BytesDone: 1 << 20}), nil
}

func (a *fakeAgent) StartCycleUpload(_ context.Context, s agentclient.CycleUpload) (agentclient.Job, error) {
	a.mu.Lock()
	bad := a.corrupt
	a.corrupt = false
	a.mu.Unlock()
	j := agentclient.Job{ID: s.JobID, VMID: s.VMID, Cycle: s.Cycle, State: agentclient.JobSucceeded}
	if bad {
		j.State, j.Err = agentclient.JobFailed, fmt.Errorf("%w: log not closed", agentclient.ErrSourceCorrupt)
	}
	return a.put(j), nil
}

func (a *fakeAgent) WatchJob(_ context.Context, id string, fn func(agentclient.Job) error) (agentclient.Job, error) {
	a.mu.Lock()
	j, ok := a.jobs[id]
	a.mu.Unlock()
	if !ok {
		return j, agentclient.ErrJobNotFound
	}
	if fn != nil {
		fn(j)
	}
	return j, nil
}

func (a *fakeAgent) CancelJob(_ context.Context, id string) (agentclient.Job, error) {
	return a.WatchJob(context.Background(), id, nil)
}

func (a *fakeAgent) ListJobs(_ context.Context, vmID string) ([]agentclient.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []agentclient.Job
	for _, j := range a.jobs {
		if j.VMID == vmID {
			out = append(out, j)
		}
	}
	return out, nil
}

func (a *fakeAgent) SetThrottle(_ context.Context, t agentclient.Throttle) (agentclient.Throttle, units.Bandwidth, error) {
	return t, t.WorkHours, nil
}

// start runs a driver over a simhost daemon, the fake agent and hub.
func start(t *testing.T) (*driver.Driver, *simhosttest.Daemon, *fakeAgent, *fakehub.Hub) {
	t.Helper()
	sim := simhosttest.Start(t)
	backend, err := simbackend.Dial(sim.Socket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.DefaultConfig(filepath.Join(t.TempDir(), "p.db")))
	if err != nil {
		t.Fatal(err)
	}
	ag, hub := &fakeAgent{jobs: map[string]agentclient.Job{}}, fakehub.New(nil)
	cfg := driver.DefaultConfig()
	cfg.Machine.MinInterval, cfg.TickEvery = 50*time.Millisecond, 20*time.Millisecond
	cfg.Machine.Backoff, cfg.Machine.RetryEvery = []time.Duration{50 * time.Millisecond}, 100*time.Millisecond
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: testWriter{t}})
	drv := driver.New(cfg, driver.Deps{Store: st, Host: backend, Agent: ag, Hub: hub, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { drv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close(); backend.Close() })
	return drv, sim, ag, hub
}

func newVM(t *testing.T, sim *simhosttest.Daemon) simhost.VM {
	t.Helper()
	vm, err := sim.Client.CreateVM(context.Background(), simhost.VMSpec{Name: "t", Disks: []simhost.DiskSpec{{Size: 4 << 20}, {Size: 4 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

func enable(t *testing.T, drv *driver.Driver, vmID string) {
	t.Helper()
	for {
		_, err := drv.Enable(context.Background(), vmID, replication.Policy{Interval: 100 * time.Millisecond})
		if !errors.Is(err, driver.ErrNotRunning) {
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls the driver's state of vmID until ok holds.
func waitFor(t *testing.T, drv *driver.Driver, vmID, what string, ok func(replication.State) bool) replication.State {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := drv.State(vmID)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDriver_Enable_preflightRefusesForeignCheckpoint(t *testing.T) {
	drv, sim, _, hub := start(t)
	vm := newVM(t, sim)
	if _, err := sim.Client.CreateCheckpoint(context.Background(), vm.ID, simhost.CheckpointSpec{Name: "manual"}); err != nil {
		t.Fatal(err)
	}
	var err error
	for {
		_, err = drv.Enable(context.Background(), vm.ID, replication.Policy{Interval: time.Second})
		if !errors.Is(err, driver.ErrNotRunning) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(err, preflight.ErrRefused) {
		t.Fatalf("enable of a vm with a foreign checkpoint: %v", err)
	}
	if _, ok := drv.State(vm.ID); ok || len(hub.Manifests(vm.ID)) != 0 {
		t.Fatal("a refused vm got a state or reached the hub")
	}
	if err := drv.Submit(context.Background(), vm.ID, replication.Disable{}); !errors.Is(err, replication.ErrInvalidTransition) {
		t.Fatalf("disable of an unknown vm: %v", err)
	}
}

func TestDriver_sourceCorruptResyncsAndHubOutageRecovers(t *testing.T) {
	drv, sim, ag, hub := start(t)
	vm := newVM(t, sim)
	if err := sim.Client.StartVM(context.Background(), vm.ID); err != nil {
		t.Fatal(err)
	}
	enable(t, drv, vm.ID)
	waitFor(t, drv, vm.ID, "two cycles", func(s replication.State) bool { return s.LastCycle >= 3 })
	ag.mu.Lock()
	ag.corrupt = true
	ag.mu.Unlock()
	st := waitFor(t, drv, vm.ID, "resync and two cycles", func(s replication.State) bool {
		return s.Generation == 2 && s.Phase == replication.PhaseDeltaReplication && s.LastCycle >= s.BaseCycle+2
	})
	hub.SetUnreachable(true)
	waitFor(t, drv, vm.ID, "failure", func(s replication.State) bool { return s.Phase == replication.PhaseFailed })
	hub.SetUnreachable(false)
	waitFor(t, drv, vm.ID, "recovery", func(s replication.State) bool { return s.LastCycle >= st.LastCycle+2 })
	if v := hub.Violations(); len(v) > 0 {
		t.Fatalf("cycle numbering broken: %v", v)
	}
	var bases []uint64
	for _, m := range hub.Manifests(vm.ID) {
		if m.Kind == replication.ManifestBase {
			bases = append(bases, m.Generation)
		}
	}
	if len(bases) != 2 || bases[1] != 2 {
		t.Fatalf("bases of generations %v, want 1 and 2", bases)
	}
	if err := drv.Submit(context.Background(), vm.ID, replication.Disable{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, drv, vm.ID, "disabled", func(s replication.State) bool { return s.Phase == replication.PhaseDisabled })
	if got, _ := sim.Client.GetVM(context.Background(), vm.ID); got.Tracking.Enabled || got.Checkpoint != nil {
		t.Fatalf("disable left tracking %v checkpoint %v", got.Tracking.Enabled, got.Checkpoint)
	}
}
