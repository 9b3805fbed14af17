// Package backoff runs an operation until it succeeds, fails for good, or
// its budget is spent: exponential backoff with full jitter, never waiting
// less than the service asked (Retry-After) even past the backoff cap,
// bounded in attempts and total time, and ending as soon as the context
// does. The agent's and the hub's storage clients both wrap their stores
// with it; each says which errors are worth another try.
package backoff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Event describes one retry, for progress, logs and metrics.
type Event struct {
	Op      string
	Name    string        // the object the operation is about, if any
	Attempt int           // the attempt that failed (1 is the first)
	Delay   time.Duration // wait before the next attempt
	Err     error         // the failure
}

// Config tunes the retries. Zero fields take the values of DefaultConfig.
type Config struct {
	// MaxAttempts bounds tries per operation, the first included.
	MaxAttempts int
	// MaxElapsed bounds one operation over all tries; a wait that would
	// cross it ends the retries.
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

// DefaultConfig holds every default in one place.
func DefaultConfig() Config {
	return Config{
		// Full jitter can make ten tries fit in a dozen seconds; twenty
		// ride out a storage outage of tens of seconds (the end-to-end
		// network suite saw 8 of 10 spent in a 12 s outage), and
		// MaxElapsed still bounds the whole.
		MaxAttempts: 20,
		MaxElapsed:  15 * time.Minute,
		BaseDelay:   500 * time.Millisecond,
		MaxDelay:    60 * time.Second,
		Sleep:       Sleep,
		Now:         time.Now,
		Jitter:      jitter,
	}
}

// WithDefaults fills the zero fields of c from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.MaxElapsed <= 0 {
		c.MaxElapsed = d.MaxElapsed
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = d.BaseDelay
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = d.MaxDelay
	}
	if c.Sleep == nil {
		c.Sleep = d.Sleep
	}
	if c.Now == nil {
		c.Now = d.Now
	}
	if c.Jitter == nil {
		c.Jitter = d.Jitter
	}
	return c
}

// Policy tells Do which errors are worth another try and how long the
// service asked to wait before it.
type Policy struct {
	Retryable  func(error) bool
	RetryAfter func(error) time.Duration
}

// Do runs fn (given the attempt number, from 1) until it succeeds, returns
// an error the policy does not retry, or the budget is spent. c must have
// its defaults filled (WithDefaults).
func Do(ctx context.Context, c Config, p Policy, op, name string, fn func(ctx context.Context, attempt int) error) error {
	start := c.Now()
	label := op
	if name != "" {
		label = op + " " + name
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx, attempt)
		if err == nil || !p.Retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= c.MaxAttempts {
			return fmt.Errorf("%s: gave up after %d attempts: %w", label, attempt, err)
		}
		delay := c.delay(attempt, err, p)
		if c.Now().Sub(start)+delay > c.MaxElapsed {
			return fmt.Errorf("%s: gave up after %d attempts, next wait %v would pass %v: %w",
				label, attempt, delay, c.MaxElapsed, err)
		}
		if c.OnRetry != nil {
			c.OnRetry(Event{Op: op, Name: name, Attempt: attempt, Delay: delay, Err: err})
		}
		if serr := c.Sleep(ctx, delay); serr != nil {
			return fmt.Errorf("%s: %w (last error: %w)", label, serr, err)
		}
	}
}

// delay is the wait after the given failed attempt.
func (c Config) delay(attempt int, err error, p Policy) time.Duration {
	ceiling := c.MaxDelay
	if shift := attempt - 1; shift < 32 {
		ceiling = min(ceiling, c.BaseDelay<<shift)
	}
	d := c.Jitter(ceiling)
	if p.RetryAfter != nil {
		d = max(d, p.RetryAfter(err))
	}
	return d
}

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
