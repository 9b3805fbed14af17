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
	"time"

	"hvmigrate/shared/backoff"
	"hvmigrate/shared/storeerr"
)

// Event describes one retry, for logs and metrics.
type Event = backoff.Event

// Config tunes the retries; see backoff.Config.
type Config = backoff.Config

// DefaultConfig returns the hub's storage retry defaults: shorter waits and
// budget than the agent's, since the hub's loop retries a held cycle later.
func DefaultConfig() Config {
	c := backoff.DefaultConfig()
	c.MaxElapsed, c.MaxDelay = 10*time.Minute, 30*time.Second
	return c
}

// withDefaults fills the zero fields of cfg from DefaultConfig.
func withDefaults(cfg Config) Config {
	d := DefaultConfig()
	if cfg.MaxElapsed <= 0 {
		cfg.MaxElapsed = d.MaxElapsed
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = d.MaxDelay
	}
	return cfg.WithDefaults()
}

// policy runs operations with retries.
type policy struct{ cfg Config }

// do runs fn until it succeeds, fails for good, or the budget is spent.
func (p policy) do(ctx context.Context, op string, fn func() error) error {
	return backoff.Do(ctx, p.cfg, backoff.Policy{Retryable: storeerr.Retryable, RetryAfter: storeerr.RetryAfter}, op, "",
		func(context.Context, int) error { return fn() })
}
