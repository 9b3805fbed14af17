package hubclient_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/shared/identity"
)

// TestRegister_failuresRateLimitedPerAddress: a real hub refuses an address
// whose registrations failed too often with ResourceExhausted and a time to
// retry, and logs one warning naming the address and the key id, not the
// secret.
func TestRegister_failuresRateLimitedPerAddress(t *testing.T) {
	e := newHub(t)
	keyPath := e.key("alpha", "1h")
	kf := readKeyFile(t, keyPath)
	wrong := kf
	other, err := identity.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	wrong.Secret = other
	badPath := writeKeyFile(t, wrong)
	base := t.TempDir()
	attempt := func(i int, path string) error {
		_, err := hubclient.Register(context.Background(), path, filepath.Join(base, string(rune('a'+i))))
		return err
	}
	const burst = 10 // the hub's default per address
	for i := range burst {
		if err := attempt(i, badPath); !errors.Is(err, hubclient.ErrKeyUnknown) {
			t.Fatalf("attempt %d: %v, want the key refused", i, err)
		}
	}
	for i, path := range []string{badPath, keyPath} { // even the right secret, from this address
		err := attempt(burst+i, path)
		if err == nil || errors.Is(err, hubclient.ErrKeyUnknown) ||
			!strings.Contains(err.Error(), "ResourceExhausted") || !strings.Contains(err.Error(), "retry after") {
			t.Fatalf("over the limit: %v, want ResourceExhausted with a time to retry", err)
		}
	}
	waitOutput(t, e.out, "too many failed attempts", 1)
	out := e.out.String()
	if !strings.Contains(out, "client_addr=127.0.0.1") || !strings.Contains(out, "key_id="+kf.KeyID) {
		t.Errorf("the warning lacks the address or the key id:\n%s", out)
	}
	assertNoSecrets(t, keyPath, out, e.ctlOut.String())
	if strings.Contains(out, other.Reveal()) {
		t.Error("the hub log carries the wrong secret")
	}
}
