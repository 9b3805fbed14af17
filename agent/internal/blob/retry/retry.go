// Package retry wraps a blob.Store with retries: exponential backoff with
// full jitter for throttling and transient failures, honouring the delay the
// service asks for even when it is longer than the backoff cap, bounded in
// attempts and total time, and stopping as soon as the context ends. Every
// Store operation is idempotent, so a retry after an unknown outcome is
// safe.
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"hvmigrate/agent/internal/blob"
)

var _ blob.Store = (*Store)(nil)

// Event describes one retry, for progress reporting.
type Event struct {
	Op      string
	Name    string
	Attempt int           // the attempt that failed (1 is the first)
	Delay   time.Duration // wait before the next attempt
	Err     error         // the failure, redacted by the inner stores
}

// Config tunes the retries.
type Config struct {
	// MaxAttempts bounds tries per operation, the first included.
	MaxAttempts int
	// MaxElapsed bounds the time of one operation over all tries; a
	// Retry-After that would cross it ends the retries.
	MaxElapsed time.Duration
	// BaseDelay and MaxDelay shape the backoff: the n-th retry waits a
	// uniformly random time in [0, min(MaxDelay, BaseDelay·2^(n-1))), or
	// the service's Retry-After when that is longer.
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
		MaxElapsed:  15 * time.Minute,
		BaseDelay:   500 * time.Millisecond,
		MaxDelay:    60 * time.Second,
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

// Store retries the operations of the Store it wraps.
type Store struct {
	next blob.Store
	cfg  Config
}

// New wraps next. Zero fields of cfg take their defaults.
func New(next blob.Store, cfg Config) *Store {
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
	return &Store{next: next, cfg: cfg}
}

// do runs fn until it succeeds, fails for good, or the budget is spent.
func (s *Store) do(ctx context.Context, op, name string, fn func(context.Context) error) error {
	start := s.cfg.Now()
	for attempt := 1; ; attempt++ {
		err := fn(blob.WithAttempt(ctx, attempt))
		if err == nil || !blob.Retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= s.cfg.MaxAttempts {
			return fmt.Errorf("%s %s: gave up after %d attempts: %w", op, name, attempt, err)
		}
		delay := s.delay(attempt, err)
		if s.cfg.Now().Sub(start)+delay > s.cfg.MaxElapsed {
			return fmt.Errorf("%s %s: gave up after %d attempts, next wait %v would pass %v: %w",
				op, name, attempt, delay, s.cfg.MaxElapsed, err)
		}
		if s.cfg.OnRetry != nil {
			s.cfg.OnRetry(Event{Op: op, Name: name, Attempt: attempt, Delay: delay, Err: err})
		}
		if serr := s.cfg.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%s %s: %w (last error: %w)", op, name, serr, err)
		}
	}
}

// delay is the wait after the given failed attempt.
func (s *Store) delay(attempt int, err error) time.Duration {
	ceiling := s.cfg.MaxDelay
	if shift := attempt - 1; shift < 32 {
		ceiling = min(ceiling, s.cfg.BaseDelay<<shift)
	}
	d := s.cfg.Jitter(ceiling)
	if ra := blob.RetryAfter(err); ra > d {
		d = ra
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
