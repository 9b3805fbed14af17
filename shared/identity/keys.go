// Package identity holds the certificate plumbing both the hub and the
// provider need: ECDSA P-256 keys, CSRs, PEM encoding, fingerprints, files
// written with owner-only permissions, and TLS 1.3 configurations, including
// the provider's pin of the hub CA by its SHA-256 fingerprint.
package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"hvmigrate/shared/secret"
)

var (
	// ErrBadPEM means a PEM document did not hold what it should.
	ErrBadPEM = errors.New("bad PEM")
	// ErrPinMismatch means the peer's chain has no CA whose fingerprint
	// matches the pinned one: the peer is not the expected hub.
	ErrPinMismatch = errors.New("hub CA fingerprint does not match the pinned one")
	// ErrKeyType means a key is not ECDSA P-256.
	ErrKeyType = errors.New("key is not ECDSA P-256")
	// ErrNotCA means a certificate expected to be a CA is not one.
	ErrNotCA = errors.New("certificate is not a CA")
)

// PEM block types.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
)

// GenerateKey returns a new ECDSA P-256 private key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// NewCSR returns a DER CSR for key. It carries no names: the hub chooses
// the subject of the certificate it issues.
func NewCSR(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, fmt.Errorf("create csr: %w", err)
	}
	return der, nil
}

// EncodeCertPEM returns der as one PEM certificate block.
func EncodeCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der})
}

// EncodeKeyPEM returns key as a PKCS #8 PEM block, held as a secret.
func EncodeKeyPEM(key *ecdsa.PrivateKey) (secret.String, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return secret.String{}, fmt.Errorf("marshal key: %w", err)
	}
	return secret.New(string(pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}))), nil
}

// ParseKeyPEM parses the first private key block of a PEM document.
func ParseKeyPEM(doc secret.String) (*ecdsa.PrivateKey, error) {
	rest := []byte(doc.Reveal())
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, fmt.Errorf("%w: no private key block", ErrBadPEM)
		}
		if b.Type != pemPrivateKey {
			continue
		}
		return parsePKCS8(b.Bytes)
	}
}

func parsePKCS8(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: private key: %w", ErrBadPEM, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, ErrKeyType
	}
	return ek, nil
}

// ParseCertsPEM parses every certificate block of a PEM document.
func ParseCertsPEM(doc []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, doc = pem.Decode(doc)
		if b == nil {
			break
		}
		if b.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %w", ErrBadPEM, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no certificate block", ErrBadPEM)
	}
	return certs, nil
}
