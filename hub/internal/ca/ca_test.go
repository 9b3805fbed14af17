package ca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/shared/identity"
)

func TestParseCSR_keyTypes(t *testing.T) {
	p256, _ := identity.GenerateKey()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name string
		key  any
		want error
	}{
		{"p256", p256, nil},
		{"p384", p384, ca.ErrCSRInvalid},
		{"rsa", rsaKey, ca.ErrCSRInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"evil.example"}}, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ca.ParseCSR(der); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestCA_FromPEM_roundTripAndMismatch(t *testing.T) {
	c, err := ca.New("x", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := c.KeyPEM()
	loaded, err := ca.FromPEM(identity.EncodeCertPEM(c.Cert().Raw), key)
	if err != nil || loaded.Fingerprint() != c.Fingerprint() {
		t.Fatalf("round trip: %v", err)
	}
	other, _ := ca.New("y", time.Hour, time.Now())
	otherKey, _ := other.KeyPEM()
	if _, err := ca.FromPEM(identity.EncodeCertPEM(c.Cert().Raw), otherKey); !errors.Is(err, identity.ErrBadPEM) {
		t.Fatalf("mismatched key: %v", err)
	}
}
