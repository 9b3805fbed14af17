// Package ca is the hub's certificate authority: a self-signed ECDSA P-256
// CA that issues the hub's server certificate, short-lived host client
// certificates from CSRs, and (as a separate instance) the admin
// credential.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// Organisational units that say what a certificate is for.
const (
	HostOU  = "hvmigrate-host"
	AdminOU = "hvmigrate-admin"
)

// backdate is how far NotBefore goes back, for clock skew between machines.
const backdate = 5 * time.Minute

// ErrCSRInvalid means a CSR did not parse, its signature did not verify, or
// its key is not ECDSA P-256.
var ErrCSRInvalid = errors.New("invalid certificate request")

// CA is a certificate authority with its key in memory.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// New makes a self-signed CA named name, valid for lifetime from now.
func New(name string, lifetime time.Duration, now time.Time) (*CA, error) {
	key, err := identity.GenerateKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"hvmigrate"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("self-sign %s: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return &CA{cert: cert, key: key}, nil
}

// FromPEM loads a CA from its certificate and key PEM documents.
func FromPEM(certPEM []byte, keyPEM secret.String) (*CA, error) {
	certs, err := identity.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := identity.ParseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !certs[0].IsCA {
		return nil, identity.ErrNotCA
	}
	pub, ok := certs[0].PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, fmt.Errorf("%w: CA key does not match its certificate", identity.ErrBadPEM)
	}
	return &CA{cert: certs[0], key: key}, nil
}

// Cert returns the CA certificate.
func (c *CA) Cert() *x509.Certificate { return c.cert }

// KeyPEM returns the CA key as PEM, for writing to a 0600 file.
func (c *CA) KeyPEM() (secret.String, error) { return identity.EncodeKeyPEM(c.key) }

// Fingerprint returns the CA certificate's SHA-256 fingerprint.
func (c *CA) Fingerprint() string { return identity.Fingerprint(c.cert) }

// Pool returns a pool holding only this CA.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// ClientSpec says what client certificate to issue.
type ClientSpec struct {
	CommonName string
	OrgUnit    string
	PublicKey  crypto.PublicKey
	Lifetime   time.Duration
	Now        time.Time
}

// IssueClient issues a client-auth-only certificate with the subject the
// hub chooses. Nothing from a CSR but its public key reaches it.
func (c *CA) IssueClient(spec ClientSpec) (*x509.Certificate, error) {
	return c.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: spec.CommonName, OrganizationalUnit: []string{spec.OrgUnit}},
		NotBefore:   spec.Now.Add(-backdate),
		NotAfter:    spec.Now.Add(spec.Lifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, spec.PublicKey)
}

// IssueServer issues a server-auth certificate for hosts (DNS names or IP
// addresses).
func (c *CA) IssueServer(pub crypto.PublicKey, hosts []string, lifetime time.Duration, now time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "hvm-hub"},
		NotBefore:   now.Add(-backdate),
		NotAfter:    now.Add(lifetime),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return c.issue(tmpl, pub)
}

func (c *CA) issue(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// newSerial returns a random 128-bit positive serial number.
func newSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("serial: %w", err)
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// ParseCSR parses a DER CSR, checks its signature (proof that the sender
// holds the private key) and that the key is ECDSA P-256.
func ParseCSR(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCSRInvalid, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrCSRInvalid, err)
	}
	pub, ok := csr.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve.Params().Name != "P-256" {
		return nil, fmt.Errorf("%w: key is not ECDSA P-256", ErrCSRInvalid)
	}
	return csr, nil
}
