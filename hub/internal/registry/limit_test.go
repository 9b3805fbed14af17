package registry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
)

// from is req sent from addr.
func from(req registry.Request, addr string) registry.Request {
	req.Addr = addr
	return req
}

// wrongSecret is kf with a secret that is not its own.
func wrongSecret(t *testing.T, kf identity.KeyFile) identity.KeyFile {
	t.Helper()
	other, err := identity.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	kf.Secret = other
	return kf
}

func limitError(t *testing.T, err error, scope string) *registry.LimitError {
	t.Helper()
	var lerr *registry.LimitError
	if !errors.Is(err, registry.ErrRateLimited) || !errors.As(err, &lerr) || lerr.Scope != scope {
		t.Fatalf("err = %v, want a %s rate limit", err, scope)
	}
	return lerr
}

func TestRegistry_Register_limitsFailuresPerAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kf := f.key(t, time.Hour)
	bad := wrongSecret(t, kf)
	const attacker, other = "192.0.2.1", "198.51.100.7"
	burst := registry.DefaultLimits().PerAddress.Burst
	for i := range burst {
		if _, err := f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), attacker)); !errors.Is(err, state.ErrKeyUnknown) {
			t.Fatalf("attempt %d: err = %v, want the key refused", i, err)
		}
	}
	_, err := f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), attacker))
	lerr := limitError(t, err, "address")
	if every := registry.DefaultLimits().PerAddress.Every; lerr.RetryAfter <= 0 || lerr.RetryAfter > every ||
		!lerr.RetryAt.Equal(f.clock().Add(lerr.RetryAfter)) || !strings.Contains(err.Error(), "retry after") {
		t.Fatalf("limit error %+v (%v), want a retry within %v", lerr, err, every)
	}
	// Over the limit, the address is refused even with the right secret...
	_, err = f.reg.Register(ctx, from(request(kf, csrFor(t, newKey(t))), attacker))
	limitError(t, err, "address")
	// ...but the key's holder elsewhere is not, though the key id is over
	// its own limit too.
	if _, err := f.reg.Register(ctx, from(request(kf, csrFor(t, newKey(t))), other)); err != nil {
		t.Fatalf("registration from another address: %v", err)
	}
	// One more attempt once a token is back, then refused again.
	f.advance(lerr.RetryAfter)
	if _, err := f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), attacker)); !errors.Is(err, state.ErrKeyUnknown) {
		t.Fatalf("after the wait: err = %v, want the key refused", err)
	}
	_, err = f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), attacker))
	limitError(t, err, "address")

	log := f.log.String()
	if n := strings.Count(log, "too many failed attempts"); n != 2 {
		t.Errorf("%d refusal warnings, want one per run of refusals (2):\n%s", n, log)
	}
	if !strings.Contains(log, "[WARN]") || !strings.Contains(log, "client_addr="+attacker) || !strings.Contains(log, "key_id="+kf.KeyID) {
		t.Errorf("the refusal warning lacks level, address or key id:\n%s", log)
	}
	for _, s := range []string{kf.Secret.Reveal(), bad.Secret.Reveal()} {
		if strings.Contains(log, s) {
			t.Fatal("the log carries a registration secret")
		}
	}
}

func TestRegistry_Register_limitsWrongSecretsPerKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kf, spare := f.key(t, time.Hour), f.key(t, time.Hour)
	bad := wrongSecret(t, kf)
	burst := registry.DefaultLimits().PerKey.Burst
	for i := range burst { // one failure per address: no address reaches its limit
		_, err := f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), fmt.Sprintf("203.0.113.%d", i)))
		if !errors.Is(err, state.ErrKeyUnknown) {
			t.Fatalf("attempt %d: err = %v", i, err)
		}
	}
	_, err := f.reg.Register(ctx, from(request(bad, csrFor(t, newKey(t))), "203.0.113.200"))
	limitError(t, err, "key")
	// Another key id is not limited by this one's failures.
	if _, err := f.reg.Register(ctx, from(request(wrongSecret(t, spare), csrFor(t, newKey(t))), "203.0.113.201")); !errors.Is(err, state.ErrKeyUnknown) {
		t.Fatalf("another key: err = %v, want the key refused, not limited", err)
	}
	// The key's holder is never limited by others' failures on it.
	if _, err := f.reg.Register(ctx, from(request(kf, csrFor(t, newKey(t))), "203.0.113.202")); err != nil {
		t.Fatalf("registration with the secret: %v", err)
	}
}

func TestRegistry_Register_usedKeyDoesNotLimitTheAddress(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	kf, next := f.key(t, time.Hour), f.key(t, time.Hour)
	const addr = "192.0.2.9"
	if _, err := f.reg.Register(ctx, from(request(kf, csrFor(t, newKey(t))), addr)); err != nil {
		t.Fatal(err)
	}
	for i := range 2 * registry.DefaultLimits().PerAddress.Burst {
		if _, err := f.reg.Register(ctx, from(request(kf, csrFor(t, newKey(t))), addr)); !errors.Is(err, state.ErrKeyRedeemed) {
			t.Fatalf("attempt %d with another public key: err = %v, want the key used", i, err)
		}
	}
	if _, err := f.reg.Register(ctx, from(request(next, csrFor(t, newKey(t))), addr)); err != nil {
		t.Fatalf("the next key from the same address: %v", err)
	}
}

func TestRegistry_Register_limitsOff(t *testing.T) {
	f := newFixture(t, func(c *registry.Config) { c.Limits = registry.Limits{} })
	bad := wrongSecret(t, f.key(t, time.Hour))
	for i := range 3 * registry.DefaultLimits().PerAddress.Burst {
		if _, err := f.reg.Register(context.Background(), from(request(bad, csrFor(t, newKey(t))), "192.0.2.1")); !errors.Is(err, state.ErrKeyUnknown) {
			t.Fatalf("attempt %d: err = %v, want no limit", i, err)
		}
	}
}
