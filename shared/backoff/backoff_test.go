package backoff

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var errBusy = errors.New("busy")

type clock struct{ now time.Time }

func testConfig(c *clock, slept *[]time.Duration) Config {
	return Config{
		MaxAttempts: 5, MaxElapsed: time.Minute, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
		Now: func() time.Time { return c.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			*slept = append(*slept, d)
			c.now = c.now.Add(d)
			return nil
		},
		Jitter: func(d time.Duration) time.Duration { return d }, // the ceiling, to check it
	}.WithDefaults()
}

func TestDo(t *testing.T) {
	retryable := Policy{Retryable: func(err error) bool { return errors.Is(err, errBusy) }}
	tests := []struct {
		name       string
		fails      int
		err        error
		retryAfter time.Duration
		wantCalls  int
		wantSleeps []time.Duration
		wantErr    string
	}{
		{name: "succeeds at once", fails: 0, wantCalls: 1},
		{name: "backs off then succeeds", fails: 3, err: errBusy, wantCalls: 4,
			wantSleeps: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}},
		{name: "not retryable", fails: 1, err: errors.New("denied"), wantCalls: 1, wantErr: "denied"},
		{name: "gives up after max attempts", fails: 10, err: errBusy, wantCalls: 5, wantErr: "gave up after 5 attempts",
			wantSleeps: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}},
		{name: "retry-after beyond the cap is honoured", fails: 1, err: errBusy, retryAfter: 5 * time.Second, wantCalls: 2,
			wantSleeps: []time.Duration{5 * time.Second}},
		{name: "retry-after past the budget ends it", fails: 1, err: errBusy, retryAfter: 2 * time.Minute, wantCalls: 1,
			wantErr: "would pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var slept []time.Duration
			c := &clock{now: time.Unix(0, 0)}
			cfg := testConfig(c, &slept)
			p := retryable
			p.RetryAfter = func(error) time.Duration { return tt.retryAfter }
			calls := 0
			err := Do(context.Background(), cfg, p, "write pages", "disk.vhd", func(_ context.Context, attempt int) error {
				calls++
				if attempt != calls {
					t.Fatalf("attempt %d on call %d", attempt, calls)
				}
				if calls <= tt.fails {
					return tt.err
				}
				return nil
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if len(slept) != len(tt.wantSleeps) {
				t.Fatalf("slept %v, want %v", slept, tt.wantSleeps)
			}
			for i := range slept {
				if slept[i] != tt.wantSleeps[i] {
					t.Errorf("sleep %d = %v, want %v", i, slept[i], tt.wantSleeps[i])
				}
			}
		})
	}
}

func TestDo_contextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := DefaultConfig()
	p := Policy{Retryable: func(error) bool { return true }}
	calls := 0
	err := Do(ctx, cfg, p, "op", "", func(context.Context, int) error {
		calls++
		cancel()
		return errBusy
	})
	if calls != 1 || !errors.Is(err, errBusy) {
		t.Fatalf("calls %d, err %v", calls, err)
	}
}
