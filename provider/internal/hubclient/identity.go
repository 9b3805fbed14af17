package hubclient

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// Files of a provider identity directory.
const (
	keyFile      = "host-key.pem"
	certFile     = "host-cert.pem"
	caFile       = "hub-ca.pem"
	identityFile = "identity.json"
)

// Identity is who this host is to the hub.
type Identity struct {
	HostID        string    `json:"host_id"`
	ProjectID     string    `json:"project_id"`
	Hub           string    `json:"hub"`
	CAFingerprint string    `json:"ca_fingerprint"`
	NotAfter      time.Time `json:"not_after"`
}

// credentials is an identity with its key and certificates in memory.
type credentials struct {
	id   Identity
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	ca   *x509.Certificate
}

func (c credentials) tlsCert() tls.Certificate {
	return identity.Certificate(c.cert, c.key)
}

func (c credentials) pin() identity.Pin {
	return identity.Pin{Fingerprint: c.id.CAFingerprint, CA: c.ca}
}

// LoadIdentity reads the identity stored in dir by Register.
func LoadIdentity(dir string) (Identity, error) {
	c, err := loadCredentials(dir)
	return c.id, err
}

func loadCredentials(dir string) (credentials, error) {
	b, err := os.ReadFile(filepath.Join(dir, identityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return credentials{}, fmt.Errorf("%w: no %s in %s", ErrNotRegistered, identityFile, dir)
	}
	if err != nil {
		return credentials{}, fmt.Errorf("read identity: %w", err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c.id); err != nil {
		return credentials{}, fmt.Errorf("parse %s: %w", identityFile, err)
	}
	if c.key, err = loadKey(dir); err != nil {
		return credentials{}, err
	}
	if c.cert, err = identity.ReadCert(filepath.Join(dir, certFile)); err != nil {
		return credentials{}, err
	}
	if c.ca, err = identity.ReadCert(filepath.Join(dir, caFile)); err != nil {
		return credentials{}, err
	}
	return c, nil
}

func loadKey(dir string) (*ecdsa.PrivateKey, error) {
	b, err := identity.ReadPrivate(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	return identity.ParseKeyPEM(secret.New(string(b)))
}

// loadOrCreateKey returns the host key in dir, creating it (0600) first:
// a retried registration then sends the same public key.
func loadOrCreateKey(dir string) (*ecdsa.PrivateKey, error) {
	k, err := loadKey(dir)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if k, err = identity.GenerateKey(); err != nil {
		return nil, err
	}
	pemKey, err := identity.EncodeKeyPEM(k)
	if err != nil {
		return nil, err
	}
	return k, identity.WritePrivate(filepath.Join(dir, keyFile), []byte(pemKey.Reveal()))
}

// saveCredentials writes the certificate, the CA and then the identity
// file, which marks the registration complete.
func saveCredentials(dir string, c credentials) error {
	if err := identity.WritePrivate(filepath.Join(dir, certFile), identity.EncodeCertPEM(c.cert.Raw)); err != nil {
		return err
	}
	if err := identity.WritePrivate(filepath.Join(dir, caFile), identity.EncodeCertPEM(c.ca.Raw)); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c.id, "", "  ")
	if err != nil {
		return err
	}
	return identity.WritePrivate(filepath.Join(dir, identityFile), append(b, '\n'))
}
