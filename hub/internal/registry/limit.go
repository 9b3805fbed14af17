package registry

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
)

// ErrRateLimited means a client address or a key id failed to register too
// often; the *LimitError carrying it says when to try again.
var ErrRateLimited = errors.New("too many failed registrations")

// LimitError is a registration refused before any check because of earlier
// failures.
type LimitError struct {
	// Scope is what failed too often: "address" or "key".
	Scope string
	// RetryAfter is how long until one more attempt is allowed.
	RetryAfter time.Duration
	// RetryAt is when that is.
	RetryAt time.Time
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%v from this %s; retry after %s (in %s)", ErrRateLimited, e.Scope,
		e.RetryAt.UTC().Format(time.RFC3339), e.RetryAfter.Round(time.Second))
}

// Unwrap returns ErrRateLimited.
func (e *LimitError) Unwrap() error { return ErrRateLimited }

// Rate is a token bucket of failures: Burst failures at once, then one
// more per Every.
type Rate struct {
	Every time.Duration
	Burst int
}

// Limits bound failed registrations. See Registry.Register for which
// failures count where.
type Limits struct {
	PerAddress Rate
	PerKey     Rate
	// MaxTracked bounds the addresses (and, separately, the key ids)
	// remembered at once; the least recently failed is forgotten first.
	MaxTracked int
}

// DefaultLimits: 10 failures at once, then one per 6 s, per address and
// per key id; 10000 of each remembered.
func DefaultLimits() Limits {
	return Limits{PerAddress: Rate{Every: 6 * time.Second, Burst: 10},
		PerKey: Rate{Every: 6 * time.Second, Burst: 10}, MaxTracked: 10000}
}

// failures counts failures per key (an address or a key id) in token
// buckets. An entry whose bucket refilled is idle: it is the same as no
// entry, so it is dropped when room is needed.
type failures struct {
	rate Rate
	max  int

	mu      sync.Mutex
	entries map[string]*bucket
}

type bucket struct {
	lim    *rate.Limiter
	last   time.Time // last failure
	warned bool      // a refusal was logged since the bucket last allowed
}

func newFailures(r Rate, max int) *failures {
	return &failures{rate: r, max: max, entries: map[string]*bucket{}}
}

// wait returns how long key must wait before its next attempt (0: go
// ahead) and whether this is the first refusal since it was last allowed.
func (f *failures) wait(key string, now time.Time) (time.Duration, bool) {
	if f == nil || f.rate.Burst <= 0 {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.entries[key]
	if b == nil {
		return 0, false
	}
	tokens := b.lim.TokensAt(now)
	if tokens >= 1 {
		b.warned = false
		return 0, false
	}
	first := !b.warned
	b.warned = true
	return time.Duration((1 - tokens) * float64(f.rate.Every)), first
}

// fail counts one failure of key.
func (f *failures) fail(key string, now time.Time) {
	if f == nil || f.rate.Burst <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.entries[key]
	if b == nil {
		f.makeRoom(now)
		b = &bucket{lim: rate.NewLimiter(rate.Every(f.rate.Every), f.rate.Burst)}
		f.entries[key] = b
	}
	b.lim.ReserveN(now, 1) // may go below zero: failures while refused wait longer
	b.last = now
}

// makeRoom drops idle entries once the map is full, then the least
// recently failed if none was idle.
func (f *failures) makeRoom(now time.Time) {
	if len(f.entries) < f.max {
		return
	}
	var oldest *string
	var oldestAt time.Time
	for k, b := range f.entries {
		if b.lim.TokensAt(now) >= float64(f.rate.Burst) {
			delete(f.entries, k)
			continue
		}
		if oldest == nil || b.last.Before(oldestAt) {
			oldest, oldestAt = &k, b.last
		}
	}
	if len(f.entries) >= f.max && oldest != nil {
		delete(f.entries, *oldest)
	}
}

// tracked returns how many keys are remembered.
func (f *failures) tracked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.entries)
}

// checkLimits refuses an attempt from an address, or without the secret
// for a key id, that failed too often.
func (r *Registry) checkLimits(ctx context.Context, req Request) error {
	now := r.cfg.Now()
	if wait, first := r.byAddress.wait(req.Addr, now); wait > 0 {
		return r.refuse(req, "address", wait, first, now)
	}
	wait, first := r.byKey.wait(req.KeyID, now)
	if wait == 0 || r.holdsSecret(ctx, req) {
		return nil
	}
	return r.refuse(req, "key", wait, first, now)
}

// holdsSecret reports whether req carries its key's secret.
func (r *Registry) holdsSecret(ctx context.Context, req Request) bool {
	if req.Secret.IsZero() || len(req.Secret.Reveal()) > maxSecretLen {
		return false
	}
	k, err := r.store.GetKey(ctx, req.KeyID)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(identity.SecretHash(req.Secret))) == 1
}

// refuse logs the first refusal of a run (one line per address or key id
// until it is allowed again, so an attack does not flood the log) and
// returns the error.
func (r *Registry) refuse(req Request, scope string, wait time.Duration, first bool, now time.Time) error {
	err := &LimitError{Scope: scope, RetryAfter: wait, RetryAt: now.Add(wait)}
	if first {
		r.log.Warn("registration refused: too many failed attempts", "scope", scope, "client_addr", req.Addr,
			"key_id", req.KeyID, "hostname", req.Hostname, "retry_after", wait.Round(time.Second))
	}
	return err
}

// countFailure counts a refused registration against its key id and
// (unless the key was used by another public key) its address.
func (r *Registry) countFailure(req Request, err error) {
	if !isRefusal(err) {
		return // the hub's own trouble, not the caller's
	}
	now := r.cfg.Now()
	if req.KeyID != "" && len(req.KeyID) <= maxIDLen {
		r.byKey.fail(req.KeyID, now)
	}
	if !errors.Is(err, state.ErrKeyRedeemed) {
		r.byAddress.fail(req.Addr, now)
	}
}

// isRefusal reports whether err refuses the caller's request.
func isRefusal(err error) bool {
	for _, c := range []error{state.ErrKeyUnknown, state.ErrKeyExpired, state.ErrKeyRedeemed, state.ErrKeyRevoked,
		state.ErrProjectMismatch, state.ErrHostRevoked, ErrInvalid, ca.ErrCSRInvalid} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}
