package hubclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// ErrOutboxFull means too many events wait for the hub's acknowledgement.
var ErrOutboxFull = errors.New("event outbox full")

// Config says how the link behaves.
type Config struct {
	// Dir holds the identity Register stored.
	Dir        string
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// HeartbeatInterval is used until the hub's welcome names its own.
	HeartbeatInterval time.Duration
	// DeadPeerMultiple: the hub is dead after this many heartbeat
	// intervals without a message.
	DeadPeerMultiple int
	// ConnectTimeout bounds the wait for the hub's welcome.
	ConnectTimeout time.Duration
	// RenewBefore renews the certificate once less than this is left.
	RenewBefore time.Duration
	// MinRenewInterval is the shortest time between two renewals.
	MinRenewInterval time.Duration
	// MaxOutbox bounds the events waiting for acknowledgement.
	MaxOutbox int
	// OnEventRefused, if set, hears about every event the hub refused.
	OnEventRefused func(eventID string, err error)
}

// DefaultConfig holds every default in one place.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:               dir,
		MinBackoff:        200 * time.Millisecond,
		MaxBackoff:        30 * time.Second,
		HeartbeatInterval: 15 * time.Second,
		DeadPeerMultiple:  3,
		ConnectTimeout:    15 * time.Second,
		RenewBefore:       8 * time.Hour,
		MinRenewInterval:  time.Minute,
		MaxOutbox:         10000,
	}
}

// Handler receives commands. HandleCommand returns nil once the command is
// durable on the provider's side; only then is it acknowledged. A command
// whose handling failed is offered again after the next reconnect.
type Handler interface {
	HandleCommand(ctx context.Context, c Command) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c Command) error

// HandleCommand calls f.
func (f HandlerFunc) HandleCommand(ctx context.Context, c Command) error { return f(ctx, c) }

// Link keeps this host's one stream to the hub. Outbound only.
type Link struct {
	cfg     Config
	handler Handler
	log     hclog.Logger

	mu          sync.Mutex
	creds       credentials
	lastRenewal time.Time
	outbox      []string                // event ids in send order
	events      map[string]*hubv1.Event // unacknowledged events
	connected   bool
	notify      chan struct{}
	handled     *idSet
	waiters     map[string][]chan error // WaitAcked callers by event id
}

// NewLink loads the identity in cfg.Dir; it fails with ErrNotRegistered
// when there is none.
func NewLink(cfg Config, h Handler, log hclog.Logger) (*Link, error) {
	c, err := loadCredentials(cfg.Dir)
	if err != nil {
		return nil, err
	}
	return &Link{cfg: cfg, handler: h, log: log, creds: c, events: map[string]*hubv1.Event{},
		notify: make(chan struct{}, 1), handled: newIDSet(4096), waiters: map[string][]chan error{}}, nil
}

// Identity returns the host's identity (with the current certificate's
// expiry).
func (l *Link) Identity() Identity {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.creds.id
}

// Connected reports whether the stream is up.
func (l *Link) Connected() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connected
}

// Pending returns how many events wait for the hub's acknowledgement.
func (l *Link) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.outbox)
}

// Send queues an event for at-least-once delivery and returns its id
// (assigned when empty). It does not wait for the hub.
func (l *Link) Send(e Event) (string, error) {
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	pe, err := eventToProto(e)
	if err != nil {
		return "", err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.events[e.ID]; !ok {
		if len(l.outbox) >= l.cfg.MaxOutbox {
			return "", fmt.Errorf("%w: %d events wait for the hub", ErrOutboxFull, len(l.outbox))
		}
		l.outbox = append(l.outbox, e.ID)
	}
	l.events[e.ID] = pe
	l.poke()
	return e.ID, nil
}

// WaitAcked waits until the hub has acknowledged the event with this id
// (it stored it), or refused it (the refusal is returned), or ctx ends.
// An id that is not waiting in the outbox returns at once.
func (l *Link) WaitAcked(ctx context.Context, id string) error {
	l.mu.Lock()
	if _, ok := l.events[id]; !ok {
		l.mu.Unlock()
		return nil
	}
	ch := make(chan error, 1)
	l.waiters[id] = append(l.waiters[id], ch)
	l.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		l.mu.Lock()
		ws := l.waiters[id]
		for i, w := range ws {
			if w == ch {
				l.waiters[id] = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(l.waiters[id]) == 0 {
			delete(l.waiters, id)
		}
		l.mu.Unlock()
		return fmt.Errorf("event %s not yet acknowledged by the hub: %w", id, ctx.Err())
	}
}

func (l *Link) poke() {
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

// Run keeps the stream up until ctx ends (then returns nil) or the hub
// refuses this host for good (revoked, protocol mismatch).
func (l *Link) Run(ctx context.Context) error {
	backoff := l.cfg.MinBackoff
	for ctx.Err() == nil {
		established, err := l.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if !retryable(err) {
			l.log.Error("the hub refused this host; not retrying", "error", err)
			return err
		}
		if established {
			backoff = l.cfg.MinBackoff
		}
		l.log.Warn("lost the hub; reconnecting", "retry_in", backoff, "error", err)
		sleep(ctx, jitter(backoff))
		backoff = min(backoff*2, l.cfg.MaxBackoff)
	}
	return nil
}

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// idSet remembers the most recent ids, up to a bound.
type idSet struct {
	ring []string
	next int
	set  map[string]bool
}

func newIDSet(n int) *idSet { return &idSet{ring: make([]string, n), set: map[string]bool{}} }

func (s *idSet) has(id string) bool { return s.set[id] }

func (s *idSet) add(id string) {
	if s.set[id] {
		return
	}
	delete(s.set, s.ring[s.next])
	s.ring[s.next] = id
	s.set[id] = true
	s.next = (s.next + 1) % len(s.ring)
}
