package replication_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/sas"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/integration/azurite"
)

// fakeStreams records the commands the service queues.
type fakeStreams struct {
	mu          sync.Mutex
	cmds        []stream.Command
	failRefresh int // refuse this many RefreshSAS commands first
}

func (f *fakeStreams) Enqueue(_ context.Context, _ string, c stream.Command) (stream.Command, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.RefreshSAS != nil && f.failRefresh > 0 {
		f.failRefresh--
		return stream.Command{}, errors.New("queue unavailable")
	}
	f.cmds = append(f.cmds, c)
	return c, nil
}

func (f *fakeStreams) all() []stream.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stream.Command(nil), f.cmds...)
}

// env is a service over a fresh database and the emulator.
type env struct {
	t       *testing.T
	ctx     context.Context
	srv     *azurite.Server
	st      *state.Store
	svc     *replication.Service
	streams *fakeStreams
	blobs   *azure.Store
	project string
	skew    atomic.Int64 // added to the service's clock, nanoseconds
}

const hostID = "host-1"

func newEnv(t *testing.T) *env { return newEnvHook(t, nil) }

// newEnvHook starts an env whose migration steps call hook.
func newEnvHook(t *testing.T, hook func(vmID, step string) error) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := azurite.Start(t)
	st, err := state.Open(ctx, state.DefaultConfig(filepath.Join(t.TempDir(), "hub.db")))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, srv: srv, st: st, streams: &fakeStreams{}, project: uuid.NewString()}
	e.seedHost()
	e.svc = e.newServiceWith(hook)
	svc := e.svc
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	return e
}

// newServiceWith builds a service whose migration steps call hook.
func (e *env) newServiceWith(hook func(vmID, step string) error) *replication.Service {
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.Credential, cfg.RootCAs, cfg.CopyPoll = e.srv.Endpoint, azure.SharedKey(e.srv.Account, e.srv.Key), e.srv.RootCAs, 50*time.Millisecond
	blobs, err := azure.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.blobs = blobs
	sc := sas.DefaultConfig()
	sc.Endpoint, sc.Account, sc.Key = e.srv.Endpoint, e.srv.Account, e.srv.Key
	iss, err := sas.New(sc)
	if err != nil {
		e.t.Fatal(err)
	}
	ctrs, err := iss.NewContainers(e.srv.RootCAs)
	if err != nil {
		e.t.Fatal(err)
	}
	rc := replication.DefaultConfig()
	rc.StepHook = hook
	rc.Now = func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }
	rc.CycleWindow, rc.Tick, rc.Applier.SpoolDir, rc.Endpoint = 4, 200*time.Millisecond, e.t.TempDir(), e.srv.Endpoint
	log := hclog.New(&hclog.LoggerOptions{Output: testWriter{e.t}, Level: hclog.Info})
	svc := replication.New(rc, e.st, blobs, ctrs, iss, log)
	svc.SetStreams(e.streams)
	return svc
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// seedHost creates the project and the host the VMs belong to.
func (e *env) seedHost() {
	t0 := time.Now()
	if err := e.st.CreateProject(e.ctx, state.Project{ID: e.project, Name: "p", CreatedAt: t0}); err != nil {
		e.t.Fatal(err)
	}
	k := state.Key{ID: "k1", ProjectID: e.project, SecretHash: "s", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := e.st.CreateKey(e.ctx, k); err != nil {
		e.t.Fatal(err)
	}
	if _, _, err := e.st.Redeem(e.ctx, state.Redemption{KeyID: "k1", SecretHash: "s", PublicKeyHash: "pk", NewHostID: hostID, Now: t0}); err != nil {
		e.t.Fatal(err)
	}
}
