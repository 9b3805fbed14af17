package replication

import (
	"fmt"
	"time"

	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/state"
)

// Policy is how a VM replicates and which recovery points it keeps.
type Policy struct {
	// Interval is the time between delta cycles (30 s to 24 h).
	Interval time.Duration
	// Threads is the upload threads per disk (1 to 32).
	Threads int
	// KeepLatest is how many of the newest recovery points are kept (>= 1).
	KeepLatest int
	// KeepWindow and KeepInterval: within the last KeepWindow, one point
	// per KeepInterval is kept too; zero keeps only the latest.
	KeepWindow, KeepInterval time.Duration
	// ExcludeDisks lists disk ids not to replicate.
	ExcludeDisks []string
}

// DefaultPolicy is a 5-minute interval, 4 threads, the latest point plus
// one an hour for a day.
func DefaultPolicy() Policy {
	return Policy{Interval: 5 * time.Minute, Threads: 4, KeepLatest: 1, KeepWindow: 24 * time.Hour, KeepInterval: time.Hour}
}

// validate checks the ranges.
func (p Policy) validate() error {
	switch {
	case p.Interval < 30*time.Second || p.Interval > 24*time.Hour:
		return fmt.Errorf("%w: interval %s must be between 30s and 24h", ErrInvalid, p.Interval)
	case p.Threads < 1 || p.Threads > 32:
		return fmt.Errorf("%w: threads %d must be between 1 and 32", ErrInvalid, p.Threads)
	case p.KeepLatest < 1 || p.KeepLatest > 1000:
		return fmt.Errorf("%w: keep-latest %d must be between 1 and 1000", ErrInvalid, p.KeepLatest)
	case p.KeepWindow < 0 || p.KeepInterval < 0 || (p.KeepWindow > 0) != (p.KeepInterval > 0):
		return fmt.Errorf("%w: keep window and keep interval go together", ErrInvalid)
	}
	return nil
}

// retention returns the recovery policy of a replication.
func retention(r state.Replication) recovery.Policy {
	return recovery.Policy{KeepLatest: r.KeepLatest, Interval: r.KeepInterval, Window: r.KeepWindow}
}
