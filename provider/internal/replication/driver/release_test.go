package driver_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	simbackend "hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/driver/fakehub"
	"hvmigrate/provider/internal/replication/store"
)

// flakyRelease is a host whose log releases fail while fail is set.
type flakyRelease struct {
	host.Backend
	mu       sync.Mutex
	fail     bool
	failed   int
	released []string
}

func (f *flakyRelease) ReleaseLogs(ctx context.Context, vmID string, logs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		f.failed++
		return errors.New("the log folder is busy")
	}
	if err := f.Backend.ReleaseLogs(ctx, vmID, logs); err != nil {
		return err
	}
	f.released = append(f.released, logs...)
	return nil
}

func (f *flakyRelease) setFail(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = v
}

// TestDriver_releaseLogs_failureIsOnlyAWarning: while the host cannot
// delete logs, cycles go on and the logs stay pending, with a warning to
// the hub; once it can, every pending log is deleted and the open logs
// are kept.
func TestDriver_releaseLogs_failureIsOnlyAWarning(t *testing.T) {
	sim := simhosttest.Start(t)
	backend, err := simbackend.Dial(sim.Socket)
	if err != nil {
		t.Fatal(err)
	}
	h := &flakyRelease{Backend: backend, fail: true}
	st, err := store.Open(store.DefaultConfig(filepath.Join(t.TempDir(), "p.db")))
	if err != nil {
		t.Fatal(err)
	}
	hub := fakehub.New(nil)
	cfg := driver.DefaultConfig()
	cfg.Machine.MinInterval, cfg.TickEvery = 50*time.Millisecond, 20*time.Millisecond
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: testWriter{t}})
	drv := driver.New(cfg, driver.Deps{Store: st, Host: h, Agent: &fakeAgent{jobs: map[string]agentclient.Job{}}, Hub: hub, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { drv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close(); backend.Close() })

	vm := newVM(t, sim)
	if err := sim.Client.StartVM(context.Background(), vm.ID); err != nil {
		t.Fatal(err)
	}
	enable(t, drv, vm.ID)
	s := waitFor(t, drv, vm.ID, "three cycles with logs pending", func(s replication.State) bool {
		return s.LastCycle >= 4 && len(s.ReleasePending) >= 4
	})
	if s.Phase != replication.PhaseDeltaReplication || s.Attempts != 0 {
		t.Fatalf("a failed release changed replication: phase %s, attempts %d", s.Phase, s.Attempts)
	}
	pending := slices.Clone(s.ReleasePending)
	for _, p := range pending {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("log %s pending release is gone: %v", p, err)
		}
	}
	warned := slices.ContainsFunc(hub.Health(), func(hl driver.Health) bool {
		return hl.Level == "warn" && strings.Contains(hl.Message, "could not be deleted")
	})
	if !warned {
		t.Fatalf("no warning reached the hub: %+v", hub.Health())
	}

	h.setFail(false)
	waitFor(t, drv, vm.ID, "pending logs released", func(s replication.State) bool {
		return s.LastCycle > 4 && !slices.ContainsFunc(pending, func(p string) bool { return slices.Contains(s.ReleasePending, p) })
	})
	for _, p := range pending {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("log %s of a reported cycle is still there: %v", p, err)
		}
	}
	cancel() // no switch between listing the open logs and looking at them
	<-done
	now, err := sim.Client.GetVM(context.Background(), vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range now.Disks {
		if _, err := os.Stat(d.CurrentLog); err != nil {
			t.Errorf("open log %s: %v", d.CurrentLog, err)
		}
	}
}
