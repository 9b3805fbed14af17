package replication

import (
	"errors"
	"time"
)

var (
	// ErrInvalidTransition means the event is not allowed in the VM's
	// phase; the state is unchanged.
	ErrInvalidTransition = errors.New("invalid transition")
	// ErrStale means the event belongs to an earlier generation or cycle,
	// or to a step already done; the state is unchanged.
	ErrStale = errors.New("stale event")
	// ErrInvalidPolicy means an Enable command carries an unusable policy.
	ErrInvalidPolicy = errors.New("invalid replication policy")
)

// Config holds the rules of the machine.
type Config struct {
	// MinInterval is the shortest replication interval a policy may set.
	MinInterval time.Duration
	// Backoff lists the waits before the first retries of a failed VM;
	// RetryEvery is the wait after the list runs out.
	Backoff    []time.Duration
	RetryEvery time.Duration
	// WarnLogRatio and ResyncLogRatio are the sizes of a disk's pending
	// logs, as a fraction of the disk, that warn and force a resync.
	WarnLogRatio   float64
	ResyncLogRatio float64
}

// DefaultConfig holds every default of the machine.
func DefaultConfig() Config {
	return Config{
		MinInterval:    30 * time.Second,
		Backoff:        []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute},
		RetryEvery:     30 * time.Minute,
		WarnLogRatio:   0.35,
		ResyncLogRatio: 0.50,
	}
}

// RetryAfter returns the wait before retry number attempt (1, 2, ...).
func (c Config) RetryAfter(attempt int) time.Duration {
	if attempt >= 1 && attempt <= len(c.Backoff) {
		return c.Backoff[attempt-1]
	}
	return c.RetryEvery
}
