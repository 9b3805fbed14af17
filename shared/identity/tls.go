package identity

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
)

// ServerConfig returns a TLS 1.3-only server configuration that presents
// cert and verifies client certificates against clientCAs as auth says.
func ServerConfig(cert tls.Certificate, clientCAs *x509.CertPool, auth tls.ClientAuthType) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientCAs:    clientCAs,
		ClientAuth:   auth,
		NextProtos:   []string{"h2"},
	}
}

// Pin identifies the hub: the SHA-256 fingerprint of its CA certificate and,
// once known, the CA certificate itself.
type Pin struct {
	Fingerprint string
	CA          *x509.Certificate
}

// PinnedClientConfig returns a TLS 1.3-only client configuration that
// trusts exactly one CA: the one whose fingerprint matches pin, taken from
// pin.CA or else from the chain the server presents. The system pool is
// never consulted. serverAddr ("host:port") gives the name the server
// certificate must carry. cert, if not nil, is the client certificate.
func PinnedClientConfig(pin Pin, serverAddr string, cert *tls.Certificate) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(serverAddr)
	if err != nil {
		return nil, fmt.Errorf("hub address %q: %w", serverAddr, err)
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		ServerName:         host,
		InsecureSkipVerify: true, // replaced by VerifyConnection below
		NextProtos:         []string{"h2"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPinned(pin, host, cs.PeerCertificates)
		},
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}

// verifyPinned checks that the leaf chains to the pinned CA and names host.
func verifyPinned(pin Pin, host string, chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return fmt.Errorf("%w: the server sent no certificate", ErrPinMismatch)
	}
	ca := pinnedCA(pin, chain[1:])
	if ca == nil {
		return fmt.Errorf("%w (pinned %s)", ErrPinMismatch, pin.Fingerprint)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := chain[0].Verify(x509.VerifyOptions{
		Roots:     roots,
		DNSName:   host,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify hub certificate: %w", err)
	}
	return nil
}

func pinnedCA(pin Pin, presented []*x509.Certificate) *x509.Certificate {
	candidates := presented
	if pin.CA != nil {
		candidates = append([]*x509.Certificate{pin.CA}, presented...)
	}
	for _, c := range candidates {
		if c.IsCA && FingerprintsEqual(Fingerprint(c), pin.Fingerprint) {
			return c
		}
	}
	return nil
}

// Certificate builds a tls.Certificate from a leaf, its key and the chain
// to send after it.
func Certificate(leaf *x509.Certificate, key *ecdsa.PrivateKey, chain ...*x509.Certificate) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for _, ca := range chain {
		c.Certificate = append(c.Certificate, ca.Raw)
	}
	return c
}

// PoolOf returns a pool holding exactly certs.
func PoolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
