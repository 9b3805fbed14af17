// Package retry wraps a storage.Store with retries: exponential backoff with
// full jitter for throttling and transient failures, waiting at least as
// long as the service's Retry-After even when that is longer than the
// backoff cap, bounded in attempts and total time, and ending as soon as
// the context does. Every Store operation is idempotent (CreateSnapshot may
// leave an extra snapshot), so a retry after an unknown outcome is safe; a
// retried Put Page carries the same sequence-number condition, so it can
// never land after the fence moved.
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"hvmigrate/hub/internal/storage"
)

// Event describes one retry, for logs and metrics.
type Event struct {
	Op      string
	Attempt int           // the attempt that failed (1 is the first)
	Delay   time.Duration // wait before the next attempt
	Err     error         // the failure, already redacted
}

// Config tunes the retries.
type Config struct {
	// MaxAttempts bounds tries per operation, the first included.
	MaxAttempts int
	// MaxElapsed bounds one operation over all tries; a Retry-After that
	// would cross it ends the retries.
	MaxElapsed time.Duration
	// BaseDelay and MaxDelay shape the backoff: the n-th retry waits a
	// random time in [0, min(MaxDelay, BaseDelay·2^(n-1))), or the
	// service's Retry-After when that is longer.
	BaseDelay, MaxDelay time.Duration
	// OnRetry, if set, is called before each wait.
	OnRetry func(Event)
	// Sleep waits d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now returns the time; tests replace it.
	Now func() time.Time
	// Jitter returns a random duration in [0, d); tests replace it.
	Jitter func(d time.Duration) time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxAttempts: 10,
		MaxElapsed:  10 * time.Minute,
		BaseDelay:   500 * time.Millisecond,
		MaxDelay:    30 * time.Second,
		Sleep:       sleep,
		Now:         time.Now,
		Jitter: func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d)
		},
	}
}

// withDefaults fills the zero fields of cfg.
func withDefaults(cfg Config) Config {
	d := DefaultConfig()
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = d.MaxAttempts
	}
	if cfg.MaxElapsed <= 0 {
		cfg.MaxElapsed = d.MaxElapsed
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = d.BaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = d.MaxDelay
	}
	if cfg.Sleep == nil {
		cfg.Sleep = d.Sleep
	}
	if cfg.Now == nil {
		cfg.Now = d.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = d.Jitter
	}
	return cfg
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// policy runs operations with retries.
type policy struct{ cfg Config }

// do runs fn until it succeeds, fails for good, or the budget is spent.
func (p policy) do(ctx context.Context, op string, fn func() error) error {
	start := p.cfg.Now()
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || !storage.Retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= p.cfg.MaxAttempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", op, attempt, err)
		}
		delay := p.delay(attempt, err)
		if p.cfg.Now().Add(delay).Sub(start) > p.cfg.MaxElapsed {
			return fmt.Errorf("%s: gave up, next try would pass %v: %w", op, p.cfg.MaxElapsed, err)
		}
		if p.cfg.OnRetry != nil {
			p.cfg.OnRetry(Event{Op: op, Attempt: attempt, Delay: delay, Err: err})
		}
		if serr := p.cfg.Sleep(ctx, delay); serr != nil {
			return err
		}
	}
}

// delay is the wait before retry n: jittered backoff, but never shorter
// than the service's Retry-After.
func (p policy) delay(n int, err error) time.Duration {
	ceil := p.cfg.BaseDelay << min(n-1, 30)
	if ceil <= 0 || ceil > p.cfg.MaxDelay {
		ceil = p.cfg.MaxDelay
	}
	return max(p.cfg.Jitter(ceil), storage.RetryAfter(err))
}
