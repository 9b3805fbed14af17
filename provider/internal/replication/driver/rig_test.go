package driver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/hashicorp/go-hclog"

	"hvmigrate/integration/azurite"
	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/agentclient"
	simbackend "hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/driver/fakehub"
	"hvmigrate/provider/internal/replication/store"
	"hvmigrate/shared/units"
)

// rig is everything the end-to-end test runs.
type rig struct {
	t       *testing.T
	srv     *azurite.Server
	sim     *simhosttest.Daemon
	vm      simhost.VM
	hub     *fakehub.Hub
	agent   *countingAgent
	sock    string
	agentUp func() *agentProc
	path    string
	cfg     driver.Config
}

func newRig(t *testing.T) *rig {
	srv := azurite.Start(t)
	ctx := context.Background()
	if err := srv.CreateContainer(ctx, container); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hvmdrv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, srv: srv, sim: simhosttest.Start(t), sock: filepath.Join(dir, "run", "agent.sock"),
		path: filepath.Join(t.TempDir(), "provider.db")}
	r.agentUp = func() *agentProc {
		return startAgent(t, "--listen", r.sock, "--state-dir", filepath.Join(dir, "state"),
			"--storage-endpoint", srv.Endpoint, "--storage-ca", ca)
	}
	r.hub = fakehub.New(func(blob string, kind driver.BlobKind) (string, error) {
		return srv.BlobSAS(container, blob, sas.BlobPermissions{Create: true, Write: true})
	})
	r.cfg = driver.DefaultConfig()
	r.cfg.Machine.MinInterval = 100 * time.Millisecond
	r.cfg.Machine.Backoff, r.cfg.Machine.RetryEvery = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, 300*time.Millisecond
	r.cfg.TickEvery, r.cfg.ProgressEvery, r.cfg.CallTimeout = 50*time.Millisecond, 200*time.Millisecond, 20*time.Second
	return r
}

// createVM makes a running VM with three disks and some data on each.
func (r *rig) createVM() {
	ctx := context.Background()
	vm, err := r.sim.Client.CreateVM(ctx, simhost.VMSpec{Name: "e2e", Disks: []simhost.DiskSpec{
		{Size: 16 << 20}, {Size: 8 << 20, LogicalSectorSize: 4096}, {Size: 8 << 20, Format: simhost.FormatVHDXFixed}}})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := r.sim.Client.StartVM(ctx, vm.ID); err != nil {
		r.t.Fatal(err)
	}
	for i := range vm.Disks {
		req := simhost.WriteRequest{VMID: vm.ID, Disk: i, Offset: 1 << 20, Length: 3 << 20, Pattern: byte(0x10 + i)}
		if err := r.sim.Client.WriteDisk(ctx, req); err != nil {
			r.t.Fatal(err)
		}
	}
	r.vm = vm
}

// workload churns the VM's disks until the returned stop is called.
func (r *rig) workload(seed uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := r.sim.Client.RunWorkload(ctx, simhost.WorkloadSpec{VMID: r.vm.ID, Pattern: simhost.PatternRandom,
			Sizes:           []simhost.IOSize{{Bytes: 4 << 10, Weight: 50}, {Bytes: 64 << 10, Weight: 50}},
			RateBytesPerSec: 1 << 20, Duration: 5 * time.Minute, OverwriteRatio: 0.3, Seed: seed}, nil)
		if err != nil && ctx.Err() == nil {
			r.t.Errorf("workload: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

// round runs one provider life: link, store and driver, for d, then
// stops it as a crash would (nothing is flushed beyond what is stored).
func (r *rig) round(d time.Duration, hook func(*driver.Driver)) replication.State {
	ctx, cancel := context.WithCancel(context.Background())
	lcfg := agentclient.DefaultLinkConfig(r.sock)
	lcfg.MaxBackoff = 200 * time.Millisecond
	link := agentclient.NewLink(lcfg, hclog.NewNullLogger())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); link.Run(ctx) }()
	st, err := store.Open(store.DefaultConfig(r.path))
	if err != nil {
		r.t.Fatal(err)
	}
	backend, err := simbackend.Dial(r.sim.Socket)
	if err != nil {
		r.t.Fatal(err)
	}
	r.agent.Agent = driver.LinkAgent{Link: link}
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: testWriter{r.t}})
	drv := driver.New(r.cfg, driver.Deps{Store: st, Host: backend, Agent: r.agent, Hub: r.hub, Log: log})
	go func() { defer wg.Done(); drv.Run(ctx) }()
	if hook != nil {
		hook(drv)
	}
	time.Sleep(d)
	cancel()
	wg.Wait()
	backend.Close()
	got, _, err := st.Get(r.vm.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	st.Close()
	return got
}

// resync asks for a resync once the VM takes one (not during its
// initial copy).
func (r *rig) resync(drv *driver.Driver) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		err := drv.Submit(context.Background(), r.vm.ID, replication.Resync{Reason: "test"})
		if err == nil {
			return
		}
		if !errors.Is(err, replication.ErrInvalidTransition) || time.Now().After(deadline) {
			r.t.Fatalf("resync: %v", err)
		}
	}
}

// limit throttles the agent's uploads around the clock (or lifts it).
// It waits for the provider's link to the agent.
func (r *rig) limit(drv *driver.Driver, bw units.Bandwidth) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := drv.SetThrottle(context.Background(), agentclient.Throttle{WorkHours: bw, NonWorkHours: bw,
			WorkStart: "09:00", WorkEnd: "17:00", ThreadsPerVM: 4})
		if err == nil {
			return
		}
		if !errors.Is(err, agentclient.ErrUnavailable) || time.Now().After(deadline) {
			r.t.Fatalf("throttle: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) enable(drv *driver.Driver) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := drv.Enable(context.Background(), r.vm.ID, replication.Policy{Interval: 700 * time.Millisecond, Threads: 4})
		if err == nil {
			return
		}
		if !errors.Is(err, driver.ErrNotRunning) || time.Now().After(deadline) {
			r.t.Fatalf("enable: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

func seed(t *testing.T) uint64 {
	if s := os.Getenv("HVM_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	return uint64(time.Now().UnixNano())
}
