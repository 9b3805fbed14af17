package registry_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type fixture struct {
	reg   *registry.Registry
	store *state.Store
	log   *syncBuf
	now   time.Time
	mu    sync.Mutex
}

func (f *fixture) clock() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T, tune ...func(*registry.Config)) *fixture {
	t.Helper()
	st, err := state.Open(context.Background(), state.DefaultConfig(filepath.Join(t.TempDir(), "hub.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	authority, err := ca.New("test CA", time.Hour*24*365, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, log: &syncBuf{}, now: time.Now()}
	cfg := registry.DefaultConfig("hub.example:8443")
	cfg.Now = f.clock
	for _, fn := range tune {
		fn(&cfg)
	}
	log := hclog.New(&hclog.LoggerOptions{Output: f.log, Level: hclog.Debug})
	f.reg = registry.New(cfg, st, authority, log)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("registry log:\n%s", f.log.String())
		}
	})
	return f
}

// key makes a project (once) and a key valid for valid.
func (f *fixture) key(t *testing.T, valid time.Duration) identity.KeyFile {
	t.Helper()
	ctx := context.Background()
	if _, err := f.store.FindProject(ctx, "alpha"); err != nil {
		if _, err := f.reg.CreateProject(ctx, "alpha"); err != nil {
			t.Fatal(err)
		}
	}
	_, kf, err := f.reg.CreateKey(ctx, "alpha", valid)
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

func csrFor(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := identity.NewCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := identity.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func request(kf identity.KeyFile, csr []byte) registry.Request {
	return registry.Request{KeyID: kf.KeyID, Secret: kf.Secret, ProjectID: kf.ProjectID, CSR: csr, Hostname: "hv01"}
}

func TestRegistry_Register_issuesClientCertificate(t *testing.T) {
	f := newFixture(t)
	kf := f.key(t, time.Hour)
	key := newKey(t)
	issued, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	c := issued.Cert
	if c.Subject.CommonName != issued.HostID || !slices.Equal(c.Subject.OrganizationalUnit, []string{ca.HostOU}) {
		t.Fatalf("subject = %v, host = %s", c.Subject, issued.HostID)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || c.IsCA {
		t.Fatalf("EKU = %v IsCA = %v", c.ExtKeyUsage, c.IsCA)
	}
	if c.SerialNumber.BitLen() < 100 || len(c.DNSNames)+len(c.IPAddresses) != 0 {
		t.Fatalf("serial bits = %d, names = %v %v", c.SerialNumber.BitLen(), c.DNSNames, c.IPAddresses)
	}
	if back := f.clock().Sub(c.NotBefore); back < 4*time.Minute || back > 6*time.Minute {
		t.Fatalf("NotBefore back-dated by %s, want 5m", back)
	}
	if life := c.NotAfter.Sub(f.clock()); life < 23*time.Hour || life > 25*time.Hour {
		t.Fatalf("lifetime %s, want 24h", life)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: identity.PoolOf(issued.CA), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	pub := c.PublicKey.(*ecdsa.PublicKey)
	if !pub.Equal(&key.PublicKey) {
		t.Fatal("certificate does not carry the CSR's key")
	}
	if err := f.reg.CheckHost(context.Background(), issued.HostID); err != nil {
		t.Fatal(err)
	}
}

func TestRegistry_Register_refusals(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte
		want   error
	}{
		{"expired", func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte {
			f.advance(2 * time.Hour)
			return csrFor(t, newKey(t))
		}, state.ErrKeyExpired},
		{"revoked", func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte {
			if _, err := f.reg.RevokeKey(context.Background(), kf.KeyID); err != nil {
				t.Fatal(err)
			}
			return csrFor(t, newKey(t))
		}, state.ErrKeyRevoked},
		{"wrong hub", func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte {
			other, _ := identity.NewSecret()
			kf.Secret = other
			return csrFor(t, newKey(t))
		}, state.ErrKeyUnknown},
		{"foreign signature", func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte {
			return foreignCSR(t, newKey(t), newKey(t))
		}, ca.ErrCSRInvalid},
		{"garbage csr", func(t *testing.T, f *fixture, kf *identity.KeyFile) []byte {
			return []byte("not a csr")
		}, ca.ErrCSRInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			kf := f.key(t, time.Hour)
			csr := tt.mutate(t, f, &kf)
			_, err := f.reg.Register(context.Background(), request(kf, csr))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if hosts, _ := f.store.Hosts(context.Background(), ""); len(hosts) != 0 {
				t.Fatalf("a refused registration made hosts: %+v", hosts)
			}
		})
	}
}

// foreignCSR returns a CSR that carries pub's key but is signed by signer.
func foreignCSR(t *testing.T, pub, signer *ecdsa.PrivateKey) []byte {
	t.Helper()
	var csr struct {
		Raw       asn1.RawContent
		Info      asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(csrFor(t, pub), &csr); err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(csr.Info.FullBytes)
	sig, err := ecdsa.SignASN1(rand.Reader, signer, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	csr.Raw, csr.Signature = nil, asn1.BitString{Bytes: sig, BitLength: len(sig) * 8}
	der, err := asn1.Marshal(csr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificateRequest(der); err != nil {
		t.Fatalf("crafted CSR does not parse: %v", err)
	}
	return der
}

func TestRegistry_Register_reuse(t *testing.T) {
	f := newFixture(t)
	kf := f.key(t, time.Hour)
	key := newKey(t)
	first, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key)))
	if err != nil || again.HostID != first.HostID || again.Cert.SerialNumber.Cmp(first.Cert.SerialNumber) == 0 {
		t.Fatalf("same key retry: host %s (want %s), err %v", again.HostID, first.HostID, err)
	}
	_, err = f.reg.Register(context.Background(), request(kf, csrFor(t, newKey(t))))
	if !errors.Is(err, state.ErrKeyRedeemed) {
		t.Fatalf("other public key: err = %v, want ErrKeyRedeemed", err)
	}
	log := f.log.String()
	if !strings.Contains(log, "[WARN]") || !strings.Contains(log, "probable theft") || !strings.Contains(log, "key_id="+kf.KeyID) {
		t.Fatalf("no theft warning with the key id in:\n%s", log)
	}
	if strings.Contains(log, kf.Secret.Reveal()) {
		t.Fatal("the log carries the registration secret")
	}
	if hosts, _ := f.store.Hosts(context.Background(), ""); len(hosts) != 1 {
		t.Fatalf("hosts = %d, want 1", len(hosts))
	}
}

func TestRegistry_Register_hundredConcurrentOneHost(t *testing.T) {
	f := newFixture(t)
	kf := f.key(t, time.Hour)
	const n = 100
	csrs := make([][]byte, n)
	for i := range csrs {
		csrs[i] = csrFor(t, newKey(t))
	}
	var wg sync.WaitGroup
	results := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, results[i] = f.reg.Register(context.Background(), request(kf, csrs[i]))
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, state.ErrKeyRedeemed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	hosts, _ := f.store.Hosts(context.Background(), "")
	if ok != 1 || len(hosts) != 1 {
		t.Fatalf("successes = %d, hosts = %d; want exactly 1 each", ok, len(hosts))
	}
}

func TestRegistry_Renew_sameHostNewCertificate(t *testing.T) {
	f := newFixture(t)
	kf := f.key(t, time.Hour)
	key := newKey(t)
	first, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour)
	renewed, err := f.reg.Renew(context.Background(), first.HostID, csrFor(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Cert.Subject.CommonName != first.HostID || !renewed.Cert.NotAfter.After(first.Cert.NotAfter) {
		t.Fatalf("renewed cert CN %s NotAfter %s; first NotAfter %s", renewed.Cert.Subject.CommonName, renewed.Cert.NotAfter, first.Cert.NotAfter)
	}
	h, _ := f.store.GetHost(context.Background(), first.HostID)
	if h.CertSerial != renewed.Cert.SerialNumber.Text(16) {
		t.Fatalf("stored serial %s, want %s", h.CertSerial, renewed.Cert.SerialNumber.Text(16))
	}
}

func TestRegistry_RevokeHost_refusedAndHooked(t *testing.T) {
	f := newFixture(t)
	kf := f.key(t, time.Hour)
	key := newKey(t)
	issued, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key)))
	if err != nil {
		t.Fatal(err)
	}
	var hooked []string
	f.reg.OnRevoke(func(id string) { hooked = append(hooked, id) })
	if err := f.reg.CheckHost(context.Background(), issued.HostID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.RevokeHost(context.Background(), issued.HostID); err != nil {
		t.Fatal(err)
	}
	if err := f.reg.CheckHost(context.Background(), issued.HostID); !errors.Is(err, state.ErrHostRevoked) {
		t.Fatalf("CheckHost after revoke = %v", err)
	}
	if _, err := f.reg.Renew(context.Background(), issued.HostID, csrFor(t, key)); !errors.Is(err, state.ErrHostRevoked) {
		t.Fatalf("Renew after revoke = %v", err)
	}
	if _, err := f.reg.Register(context.Background(), request(kf, csrFor(t, key))); !errors.Is(err, state.ErrHostRevoked) {
		t.Fatalf("re-register with the same key after revoke = %v", err)
	}
	if !slices.Equal(hooked, []string{issued.HostID}) {
		t.Fatalf("hooks saw %v", hooked)
	}
}

func TestRegistry_CreateKey_validation(t *testing.T) {
	f := newFixture(t)
	f.key(t, time.Hour)
	for _, d := range []time.Duration{0, -time.Second, 31 * 24 * time.Hour} {
		if _, _, err := f.reg.CreateKey(context.Background(), "alpha", d); !errors.Is(err, registry.ErrInvalid) {
			t.Errorf("validity %s: err = %v", d, err)
		}
	}
	if _, _, err := f.reg.CreateKey(context.Background(), "nope", time.Hour); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("unknown project: err = %v", err)
	}
	if _, err := f.reg.CreateProject(context.Background(), "Bad Name"); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("bad project name: err = %v", err)
	}
}
