package identity_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// testCA makes a self-signed CA and a server certificate for 127.0.0.1.
func testCA(t *testing.T) (ca *x509.Certificate, server tls.Certificate) {
	t.Helper()
	caKey, _ := identity.GenerateKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ = x509.ParseCertificate(der)
	key, _ := identity.GenerateKey()
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err = x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return ca, identity.Certificate(leaf, key, ca)
}

// handshake runs one TLS 1.3 handshake against a server presenting cert.
func handshake(t *testing.T, server tls.Certificate, client *tls.Config) error {
	t.Helper()
	l, err := tls.Listen("tcp", "127.0.0.1:0", identity.ServerConfig(server, nil, tls.NoClientCert))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := tls.Dial("tcp", l.Addr().String(), client)
	if err != nil {
		return err
	}
	return conn.Close()
}

func TestPinnedClientConfig_Handshake_pins(t *testing.T) {
	ca, server := testCA(t)
	otherCA, _ := testCA(t)
	tests := []struct {
		name string
		pin  identity.Pin
		addr string
		want error
	}{
		{"pin from chain", identity.Pin{Fingerprint: identity.Fingerprint(ca)}, "127.0.0.1:1", nil},
		{"pin with known CA", identity.Pin{Fingerprint: identity.Fingerprint(ca), CA: ca}, "127.0.0.1:1", nil},
		{"other fingerprint", identity.Pin{Fingerprint: identity.Fingerprint(otherCA)}, "127.0.0.1:1", identity.ErrPinMismatch},
		{"known CA does not match pin", identity.Pin{Fingerprint: identity.Fingerprint(otherCA), CA: ca}, "127.0.0.1:1", identity.ErrPinMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := identity.PinnedClientConfig(tt.pin, tt.addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := handshake(t, server, cfg); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPinnedClientConfig_Handshake_wrongName(t *testing.T) {
	ca, server := testCA(t)
	cfg, _ := identity.PinnedClientConfig(identity.Pin{Fingerprint: identity.Fingerprint(ca)}, "hub.example:1", nil)
	cfg.ServerName = "hub.example"
	if err := handshake(t, server, cfg); err == nil || !strings.Contains(err.Error(), "hub.example") {
		t.Fatalf("err = %v, want a name mismatch", err)
	}
}

func TestFingerprintsEqual_forms(t *testing.T) {
	ca, _ := testCA(t)
	fp := identity.Fingerprint(ca)
	if !identity.FingerprintsEqual(fp, strings.ToUpper(strings.TrimPrefix(fp, "sha256:"))) {
		t.Fatal("case or prefix changed the comparison")
	}
	if identity.FingerprintsEqual(fp, "") || identity.FingerprintsEqual("sha256:", "sha256:") {
		t.Fatal("empty fingerprints compared equal")
	}
}

func TestBundle_roundTrip(t *testing.T) {
	ca, server := testCA(t)
	doc, err := identity.EncodeBundle(identity.Bundle{Cert: server.Leaf, Key: server.PrivateKey.(*ecdsa.PrivateKey), CAs: []*x509.Certificate{ca}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(doc.String(), "PRIVATE") || !strings.Contains(doc.Reveal(), "PRIVATE KEY") {
		t.Fatal("the bundle is not held as a secret")
	}
	b, err := identity.ParseBundle(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Cert.Equal(server.Leaf) || len(b.CAs) != 1 || !b.CAs[0].Equal(ca) {
		t.Fatalf("bundle = %+v", b)
	}
	if _, err := identity.ParseBundle(secret.New(string(identity.EncodeCertPEM(ca.Raw)))); !errors.Is(err, identity.ErrBadPEM) {
		t.Fatalf("bundle without key: %v", err)
	}
}

func TestKeyFile_roundTripAndValidation(t *testing.T) {
	sec, err := identity.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sec.Reveal()); n < 22 { // 128 bits in base64url
		t.Fatalf("secret of %d characters", n)
	}
	kf := identity.KeyFile{Hub: "hub:443", ProjectID: "p", KeyID: "k", CAFingerprint: "sha256:" + strings.Repeat("0a", 32),
		Secret: sec, ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	b, err := identity.MarshalKeyFile(kf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := identity.ParseKeyFile(b)
	if err != nil || got.Secret.Reveal() != sec.Reveal() || !got.ExpiresAt.Equal(kf.ExpiresAt) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	for _, bad := range []string{`{}`, `not json`, `{"hub":"nohostport"}`, strings.Replace(string(b), `"secret"`, `"x"`, 1)} {
		if _, err := identity.ParseKeyFile([]byte(bad)); !errors.Is(err, identity.ErrBadKeyFile) {
			t.Errorf("%.30q: err = %v", bad, err)
		}
	}
	if _, err := identity.ParseKeyFile(make([]byte, 1<<20)); !errors.Is(err, identity.ErrBadKeyFile) {
		t.Error("a huge key file was accepted")
	}
}

func TestWritePrivate_mode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	if err := identity.WritePrivate(path, []byte("x")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v", fi.Mode(), err)
	}
}
