package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"

	"hvmigrate/shared/secret"
)

// Bundle is a client credential in one PEM document: the client
// certificate, its private key, and the CA certificates that identify the
// server. The hvmctl admin credential is a Bundle.
type Bundle struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	CAs  []*x509.Certificate
}

// EncodeBundle writes the certificate, the key and then the CAs as PEM.
func EncodeBundle(b Bundle) (secret.String, error) {
	key, err := EncodeKeyPEM(b.Key)
	if err != nil {
		return secret.String{}, err
	}
	var buf bytes.Buffer
	buf.Write(EncodeCertPEM(b.Cert.Raw))
	buf.WriteString(key.Reveal())
	for _, ca := range b.CAs {
		buf.Write(EncodeCertPEM(ca.Raw))
	}
	return secret.New(buf.String()), nil
}

// ParseBundle reads a document written by EncodeBundle. The client
// certificate is the one whose public key matches the private key; every
// CA certificate is a server trust anchor.
func ParseBundle(doc secret.String) (Bundle, error) {
	key, err := ParseKeyPEM(doc)
	if err != nil {
		return Bundle{}, err
	}
	certs, err := ParseCertsPEM([]byte(doc.Reveal()))
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Key: key}
	for _, c := range certs {
		pub, ok := c.PublicKey.(*ecdsa.PublicKey)
		switch {
		case ok && pub.Equal(&key.PublicKey):
			b.Cert = c
		case c.IsCA:
			b.CAs = append(b.CAs, c)
		}
	}
	if b.Cert == nil {
		return Bundle{}, fmt.Errorf("%w: no certificate matches the private key", ErrBadPEM)
	}
	if len(b.CAs) == 0 {
		return Bundle{}, fmt.Errorf("%w: no CA certificate", ErrBadPEM)
	}
	return b, nil
}
