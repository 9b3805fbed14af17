package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/mem"
	"hvmigrate/hub/internal/storage/retry"
	"hvmigrate/hub/internal/storage/storagetest"
	"hvmigrate/shared/storeerr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStore_conformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) (storage.Store, string) {
		s := mem.New(mem.Config{})
		s.CreateContainer("ctr")
		return retry.New(s, retry.Config{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}), "ctr"
	})
}

// flaky fails the first n put requests with err.
func flaky(n int, err error) (*mem.Store, *int) {
	calls := 0
	s := mem.New(mem.Config{Before: func(c mem.Call) error {
		if c.Op != "put pages" {
			return nil
		}
		calls++
		if calls <= n {
			return err
		}
		return nil
	}})
	s.CreateContainer("ctr")
	return s, &calls
}

func TestStore_PutPages_retries(t *testing.T) {
	busy := &storeerr.Error{Op: "put pages", Status: 503, Code: "ServerBusy", Class: storeerr.ErrThrottled, RetryAfter: 3 * time.Second}
	reset := &storeerr.Error{Op: "put pages", Class: storeerr.ErrTransient}
	denied := &storeerr.Error{Op: "put pages", Status: 403, Class: storeerr.ErrDenied}
	fence := &storeerr.Error{Op: "put pages", Status: 412, Class: storeerr.ErrConditionNotMet}
	tests := []struct {
		name      string
		failures  int
		err       error
		wantCalls int
		wantErr   error
		minSleep  time.Duration // each wait at least this
	}{
		{"throttled_honoursRetryAfter", 3, busy, 4, nil, 3 * time.Second},
		{"transient_recovers", 2, reset, 3, nil, 0},
		{"transient_givesUp", 100, reset, 5, storeerr.ErrTransient, 0},
		{"denied_notRetried", 100, denied, 1, storeerr.ErrDenied, 0},
		{"fence_notRetried", 100, fence, 1, storeerr.ErrConditionNotMet, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, calls := flaky(tt.failures, tt.err)
			var sleeps []time.Duration
			r := retry.New(s, retry.Config{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: time.Second,
				Sleep: func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }})
			ctx := context.Background()
			if err := s.CreatePageBlob(ctx, "ctr/d", 4096); err != nil {
				t.Fatal(err)
			}
			data := make([]byte, 512)
			err := r.PutPages(ctx, "ctr/d", 0, data, storage.CRC64(data), storage.Cond{})
			if (tt.wantErr == nil) != (err == nil) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("PutPages: %v, want %v", err, tt.wantErr)
			}
			if *calls != tt.wantCalls {
				t.Fatalf("%d calls, want %d", *calls, tt.wantCalls)
			}
			for _, d := range sleeps {
				if d < tt.minSleep {
					t.Fatalf("slept %v, below the Retry-After %v", d, tt.minSleep)
				}
			}
		})
	}
}

func TestStore_PutPages_contextEnds(t *testing.T) {
	s, calls := flaky(100, &storeerr.Error{Class: storeerr.ErrThrottled})
	ctx, cancel := context.WithCancel(context.Background())
	r := retry.New(s, retry.Config{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }})
	if err := s.CreatePageBlob(ctx, "ctr/d", 4096); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 512)
	if err := r.PutPages(ctx, "ctr/d", 0, data, storage.CRC64(data), storage.Cond{}); !errors.Is(err, storeerr.ErrThrottled) {
		t.Fatalf("PutPages: %v", err)
	}
	if *calls != 1 {
		t.Fatalf("%d calls after the context ended, want 1", *calls)
	}
}
