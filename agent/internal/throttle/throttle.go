// Package throttle is the host-wide upload limiter: one token bucket that
// every job on the host draws from, following the throttle schedule (a
// work-hours and a non-work-hours limit), and sharing the bandwidth fairly
// between VMs: waiting requests are granted round-robin by VM, one chunk per
// VM per turn, so a VM uploading with 32 threads gets the same share as one
// with 4 (shares are equal in chunks; the upload wrapper sends equal chunks).
//
// The schedule is re-evaluated at least every second and at once on Set; a
// change reaches requests that are already waiting, because grants are made
// at the moment bytes are released, never reserved ahead at the old rate.
// Built on golang.org/x/time/rate, whose Limiter does the token accounting.
package throttle

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"hvmigrate/shared/units"
)

// ErrClosed is returned by Wait after Close.
var ErrClosed = errors.New("throttle closed")

// Config configures a Limiter.
type Config struct {
	// Schedule is the initial throttle schedule.
	Schedule units.Schedule
	// MaxChunk is the largest single grant; Wait splits bigger requests.
	MaxChunk int
	// Burst is how long a full bucket lasts at the current rate; the bucket
	// is never smaller than MaxChunk.
	Burst time.Duration
	// Evaluate is how often the schedule is re-read (at most one second).
	Evaluate time.Duration
	// Clock is the time source; nil means the wall clock.
	Clock Clock
}

// DefaultConfig returns an unlimited schedule and the defaults.
func DefaultConfig() Config {
	return Config{
		Schedule: units.Schedule{WorkHours: units.Unlimited, OffHours: units.Unlimited},
		MaxChunk: 64 << 10,
		Burst:    100 * time.Millisecond,
		Evaluate: time.Second,
		Clock:    realClock{},
	}
}

// Limiter is the host-wide limiter. Create it with New and Close it.
type Limiter struct {
	cfg  Config
	wake chan struct{}
	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	schedule units.Schedule
	limit    units.Bandwidth
	bucket   *rate.Limiter
	queues   map[string][]*request
	ring     []string // VMs with waiting requests, in turn order
	turn     int
	closed   bool
}

// request is one waiting grant.
type request struct {
	n       int
	granted chan struct{}
}

// New validates cfg.Schedule and starts the limiter.
func New(cfg Config) (*Limiter, error) {
	d := DefaultConfig()
	if cfg.MaxChunk <= 0 {
		cfg.MaxChunk = d.MaxChunk
	}
	if cfg.Burst <= 0 {
		cfg.Burst = d.Burst
	}
	if cfg.Evaluate <= 0 || cfg.Evaluate > time.Second {
		cfg.Evaluate = d.Evaluate
	}
	if cfg.Clock == nil {
		cfg.Clock = d.Clock
	}
	if err := cfg.Schedule.Validate(); err != nil {
		return nil, fmt.Errorf("throttle schedule: %w", err)
	}
	l := &Limiter{
		cfg:      cfg,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		schedule: cfg.Schedule,
		bucket:   rate.NewLimiter(rate.Inf, cfg.MaxChunk),
		queues:   map[string][]*request{},
	}
	l.applyLocked(cfg.Clock.Now())
	l.wg.Add(1)
	go l.run()
	return l, nil
}

// Close stops the limiter; waiting and later calls get ErrClosed.
func (l *Limiter) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	close(l.done)
	l.wg.Wait()
}

// Set replaces the schedule; the new limit applies at once, to waiting
// requests too.
func (l *Limiter) Set(s units.Schedule) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("throttle schedule: %w", err)
	}
	l.mu.Lock()
	l.schedule = s
	l.applyLocked(l.cfg.Clock.Now())
	l.mu.Unlock()
	l.poke()
	return nil
}

// Limit returns the limit in force.
func (l *Limiter) Limit() units.Bandwidth {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// applyLocked sets the bucket to the schedule's limit at now.
func (l *Limiter) applyLocked(now time.Time) {
	b := l.schedule.LimitAt(now)
	if b == l.limit {
		return
	}
	l.limit = b
	if b.IsUnlimited() {
		l.bucket.SetLimitAt(now, rate.Inf)
		return
	}
	bps := b.BytesPerSecond()
	burst := max(l.cfg.MaxChunk, int(bps*l.cfg.Burst.Seconds()))
	l.bucket.SetLimitAt(now, rate.Limit(bps))
	l.bucket.SetBurstAt(now, burst)
}

// poke wakes the dispatcher.
func (l *Limiter) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}
