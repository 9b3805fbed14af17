package retry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/agent/internal/blob/retry"
	"hvmigrate/shared/storeerr"
)

// flaky fails the first calls of WritePages with the scripted errors.
type flaky struct {
	blob.Store
	mu       sync.Mutex
	script   []error
	attempts []int
}

func (f *flaky) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	f.mu.Lock()
	f.attempts = append(f.attempts, blob.Attempt(ctx))
	var err error
	if len(f.script) > 0 {
		err, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.Store.WritePages(ctx, name, off, p)
}

// fakeClock records sleeps and advances time by them.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) config(base retry.Config) retry.Config {
	base.Now = func() time.Time { return c.now }
	base.Sleep = func(ctx context.Context, d time.Duration) error {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		return ctx.Err()
	}
	base.Jitter = func(d time.Duration) time.Duration { return d / 2 }
	return base
}

func busy(after time.Duration) error {
	return &storeerr.Error{Op: "write pages", Name: "d", Status: 503, Code: "ServerBusy", Class: storeerr.ErrThrottled, RetryAfter: after}
}

var transient = &storeerr.Error{Op: "write pages", Name: "d", Class: storeerr.ErrTransient, Err: errors.New("connection reset")}

func setup(t *testing.T, script ...error) (*flaky, context.Context) {
	t.Helper()
	m := mem.New()
	ctx := context.Background()
	if err := m.CreatePageBlob(ctx, "d", 1<<20); err != nil {
		t.Fatal(err)
	}
	return &flaky{Store: m, script: script}, ctx
}

func TestStore_WritePages_retriesUntilSuccess(t *testing.T) {
	f, ctx := setup(t, busy(0), transient, busy(0))
	clock := &fakeClock{now: time.Unix(0, 0)}
	var events []retry.Event
	cfg := clock.config(retry.Config{BaseDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second,
		OnRetry: func(e retry.Event) { events = append(events, e) }})
	err := retry.New(f, cfg).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	if len(clock.sleeps) != 3 || clock.sleeps[0] != want[0] || clock.sleeps[1] != want[1] || clock.sleeps[2] != want[2] {
		t.Fatalf("sleeps %v, want %v (full jitter at half the ceiling)", clock.sleeps, want)
	}
	if len(events) != 3 || events[2].Attempt != 3 || events[0].Op != "write pages" {
		t.Fatalf("events %+v", events)
	}
	if got := f.attempts; len(got) != 4 || got[0] != 1 || got[3] != 4 {
		t.Fatalf("attempt numbers seen by the inner store: %v", got)
	}
}

func TestStore_retryAfterLongerThanMaxDelay_isHonoured(t *testing.T) {
	f, ctx := setup(t, busy(90*time.Second))
	clock := &fakeClock{now: time.Unix(0, 0)}
	cfg := clock.config(retry.Config{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second})
	if err := retry.New(f, cfg).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512))); err != nil {
		t.Fatal(err)
	}
	if len(clock.sleeps) != 1 || clock.sleeps[0] != 90*time.Second {
		t.Fatalf("sleeps %v, want [1m30s]", clock.sleeps)
	}
}

func TestStore_nonRetryable_returnsAtOnce(t *testing.T) {
	notFound := &storeerr.Error{Op: "write pages", Name: "d", Status: 404, Class: storeerr.ErrNotFound}
	f, ctx := setup(t, notFound)
	clock := &fakeClock{}
	err := retry.New(f, clock.config(retry.Config{})).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	if !errors.Is(err, storeerr.ErrNotFound) || len(clock.sleeps) != 0 {
		t.Fatalf("err %v, sleeps %v", err, clock.sleeps)
	}
}

func TestStore_maxAttempts_bounds(t *testing.T) {
	f, ctx := setup(t, transient, transient, transient, transient)
	clock := &fakeClock{}
	err := retry.New(f, clock.config(retry.Config{MaxAttempts: 3})).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	t.Log(err)
	if !errors.Is(err, storeerr.ErrTransient) || len(f.attempts) != 3 {
		t.Fatalf("err %v after %d attempts", err, len(f.attempts))
	}
}

func TestStore_maxElapsed_bounds(t *testing.T) {
	f, ctx := setup(t, busy(10*time.Second), busy(10*time.Minute))
	clock := &fakeClock{now: time.Unix(0, 0)}
	err := retry.New(f, clock.config(retry.Config{MaxElapsed: time.Minute})).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	t.Log(err)
	if !errors.Is(err, storeerr.ErrThrottled) || len(f.attempts) != 2 {
		t.Fatalf("err %v after %d attempts", err, len(f.attempts))
	}
}

func TestStore_contextCancelled_stopsWaiting(t *testing.T) {
	f, _ := setup(t, busy(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := retry.New(f, retry.Config{}).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, storeerr.ErrThrottled) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v after cancellation", d)
	}
}
