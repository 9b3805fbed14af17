package hublink

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/preflight"
	"hvmigrate/shared/secret"
)

const (
	testVM   = "6f1c2a34-1111-4222-8333-444455556666"
	testDisk = "0a0b0c0d-1111-4222-8333-444455556666"
)

// sender records the events the adapter queues.
type sender struct {
	mu     sync.Mutex
	events []hubclient.Event
	err    error
}

func (s *sender) Send(e hubclient.Event) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	s.events = append(s.events, e)
	return e.ID, nil
}

func (s *sender) all() []hubclient.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hubclient.Event(nil), s.events...)
}

// grantURL is a path-style SAS URL of a hub-named blob.
func grantURL(blob string) secret.String {
	return secret.New("https://127.0.0.1:10000/devstoreaccount1/cyc-p1/" + blob + "?sv=2024&sig=secretsig")
}

func replicaGrant(disk string) hubclient.SASGrant {
	return hubclient.SASGrant{DiskID: disk, Purpose: purposeReplica, URL: grantURL("vm/aa/disk/bb.vhd"), ExpiresAt: time.Now().Add(time.Hour)}
}

func cycleGrant(disk string, n uint64) hubclient.SASGrant {
	return hubclient.SASGrant{DiskID: disk, Purpose: purposeCycle, URL: grantURL(fmt.Sprintf("vm/aa/disk/bb/cycle/%d.delta", n)),
		ExpiresAt: time.Now().Add(time.Hour)}
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.GrantWait = 100 * time.Millisecond
	return cfg
}

func testLogger(t *testing.T) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logWriter{t}})
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", p)
	return len(p), nil
}

// marker plays the agent for base markers.
type marker struct {
	mu    sync.Mutex
	specs []agentclient.CycleUpload
	state agentclient.JobState
}

func (m *marker) StartCycleUpload(_ context.Context, spec agentclient.CycleUpload) (agentclient.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.specs = append(m.specs, spec)
	return agentclient.Job{ID: spec.JobID, State: agentclient.JobRunning}, nil
}

func (m *marker) WatchJob(_ context.Context, id string, _ func(agentclient.Job) error) (agentclient.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return agentclient.Job{ID: id, State: m.state}, nil
}

// vms plays the host's VM lookup and listing.
type vms struct{ list []host.VM }

func (v vms) VM(_ context.Context, id string) (host.VM, error) {
	for _, vm := range v.list {
		if vm.ID == id {
			return vm, nil
		}
	}
	return host.VM{}, fmt.Errorf("vm %s: %w", id, host.ErrNotFound)
}

func (v vms) Inventory(context.Context) ([]host.VM, error) { return v.list, nil }

// fakeDriver records the calls the handler makes.
type fakeDriver struct {
	mu        sync.Mutex
	enabled   []replication.Policy
	submitted []replication.Event
	throttles []agentclient.Throttle
	states    map[string]replication.State
	// notRunning fails this many calls with driver.ErrNotRunning first.
	notRunning int
	enableErr  error
	report     preflight.Report
	submitErr  error
}

func (d *fakeDriver) starting() error {
	if d.notRunning > 0 {
		d.notRunning--
		return driver.ErrNotRunning
	}
	return nil
}

func (d *fakeDriver) Enable(_ context.Context, _ string, p replication.Policy) (preflight.Report, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.starting(); err != nil {
		return preflight.Report{}, err
	}
	d.enabled = append(d.enabled, p)
	return d.report, d.enableErr
}

func (d *fakeDriver) Submit(_ context.Context, _ string, ev replication.Event) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.starting(); err != nil {
		return err
	}
	d.submitted = append(d.submitted, ev)
	return d.submitErr
}

func (d *fakeDriver) SetThrottle(_ context.Context, t agentclient.Throttle) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.throttles = append(d.throttles, t)
	return nil
}

func (d *fakeDriver) State(vmID string) (replication.State, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st, ok := d.states[vmID]
	return st, ok
}

func secretOf(s string) secret.String { return secret.New(s) }
