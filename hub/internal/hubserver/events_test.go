package hubserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/hubserver"
	"hvmigrate/hub/internal/state"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// seedHost makes a project, a key and a host in the hub's store.
func seedHost(t *testing.T, st *state.Store) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := st.CreateProject(ctx, state.Project{ID: "p1", Name: "alpha", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateKey(ctx, state.Key{ID: "k1", ProjectID: "p1", SecretHash: "aa", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h, _, err := st.Redeem(ctx, state.Redemption{KeyID: "k1", SecretHash: "aa", ProjectID: "p1", PublicKeyHash: "pk",
		Hostname: "hv01", NewHostID: "h1", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return h.ID
}

func recordEvent(t *testing.T, st *state.Store, host, id string, at time.Time) {
	t.Helper()
	if _, err := st.RecordEvent(context.Background(), state.Event{HostID: host, ID: id, Kind: "health", Payload: []byte{1}, ReceivedAt: at}, nil); err != nil {
		t.Fatal(err)
	}
}

func hasEvent(t *testing.T, st *state.Store, host, id string) bool {
	t.Helper()
	ok, err := st.HasEvent(context.Background(), host, id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServe_prunesEventsAtStartAndPeriodically: old events go when the hub
// starts and again on every interval; recent ones and each host's newest
// stay.
func TestServe_prunesEventsAtStartAndPeriodically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hub")
	cfg := hubserver.DefaultConfig()
	cfg.Listen, cfg.AdminListen, cfg.PublicAddress = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:443"
	cfg.Events = hubserver.EventRetention{KeepPerHost: 2, MaxAge: hubserver.Duration(time.Hour),
		Interval: hubserver.Duration(100 * time.Millisecond)}
	ctx := context.Background()
	if err := hubserver.Init(ctx, dir, cfg); err != nil {
		t.Fatal(err)
	}
	out := &syncBuf{}
	h, err := hubserver.Open(ctx, dir, nil, hclog.New(&hclog.LoggerOptions{Output: out, Level: hclog.Debug}))
	if err != nil {
		t.Fatal(err)
	}
	st := h.Store()
	host := seedHost(t, st)
	old := time.Now().Add(-2 * time.Hour)
	for i := range 5 {
		recordEvent(t, st, host, fmt.Sprintf("old%d", i), old.Add(time.Duration(i)*time.Minute))
	}
	recordEvent(t, st, host, "new", time.Now())

	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- h.Serve(sctx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			t.Logf("hub log:\n%s", out.String())
		}
	}()
	// At start: the recent event and the newest old one (two kept) stay.
	waitFor(t, "pruning at start", func() bool { return !hasEvent(t, st, host, "old3") })
	for id, want := range map[string]bool{"old0": false, "old1": false, "old2": false, "old4": true, "new": true} {
		if got := hasEvent(t, st, host, id); got != want {
			t.Errorf("event %s stored %v, want %v", id, got, want)
		}
	}
	// Later: an old event recorded now is pruned on a following interval.
	recordEvent(t, st, host, "new2", time.Now())
	waitFor(t, "pruning on an interval", func() bool { return !hasEvent(t, st, host, "old4") })
	if !hasEvent(t, st, host, "new") || !hasEvent(t, st, host, "new2") {
		t.Error("a recent event was pruned")
	}
}

func TestLoadConfig_eventRetentionDefaults(t *testing.T) {
	dir := t.TempDir()
	raw, _ := json.Marshal(map[string]any{"listen": "127.0.0.1:1", "events": map[string]any{"keep_per_host": 5}})
	if err := os.WriteFile(filepath.Join(dir, hubserver.ConfigFile), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := hubserver.LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := hubserver.DefaultEventRetention()
	want.KeepPerHost = 5
	if cfg.Events != want {
		t.Fatalf("events = %+v, want %+v (unset fields keep their defaults)", cfg.Events, want)
	}
}
