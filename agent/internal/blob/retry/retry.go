// Package retry wraps a blob.Store with retries: exponential backoff with
// full jitter for throttling and transient failures, honouring the delay the
// service asks for even when it is longer than the backoff cap, bounded in
// attempts and total time, and stopping as soon as the context ends. Every
// Store operation is idempotent, so a retry after an unknown outcome is
// safe.
package retry

import (
	"context"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/backoff"
	"hvmigrate/shared/storeerr"
)

var _ blob.Store = (*Store)(nil)

// Event describes one retry, for progress reporting.
type Event = backoff.Event

// Config tunes the retries; see backoff.Config.
type Config = backoff.Config

// DefaultConfig returns the defaults of the agent's storage retries.
func DefaultConfig() Config { return backoff.DefaultConfig() }

// Store retries the operations of the Store it wraps.
type Store struct {
	next blob.Store
	cfg  Config
}

// New wraps next. Zero fields of cfg take their defaults.
func New(next blob.Store, cfg Config) *Store {
	return &Store{next: next, cfg: cfg.WithDefaults()}
}

// policy retries throttling, transient failures and checksum mismatches,
// waiting at least as long as the service asked.
func policy() backoff.Policy {
	return backoff.Policy{Retryable: storeerr.Retryable, RetryAfter: storeerr.RetryAfter}
}

// do runs fn until it succeeds, fails for good, or the budget is spent.
func (s *Store) do(ctx context.Context, op, name string, fn func(context.Context) error) error {
	return backoff.Do(ctx, s.cfg, policy(), op, name, func(ctx context.Context, attempt int) error {
		return fn(blob.WithAttempt(ctx, attempt))
	})
}
