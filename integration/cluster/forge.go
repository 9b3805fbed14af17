package cluster

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"hvmigrate/shared/identity"
)

// Files of a provider identity directory, as hvm-provider register
// writes them.
const (
	idKeyFile  = "host-key.pem"
	idCertFile = "host-cert.pem"
	idCAFile   = "hub-ca.pem"
	idInfoFile = "identity.json"
)

// ForgeIdentity writes, into a new directory under the cluster's, a
// provider identity that impersonates the registered host: the registered
// identity's description and hub CA, with a fresh key and a client
// certificate carrying exactly the registered certificate's subject (the
// host id), signed by a rogue CA that copies the project CA's name. The
// hub must refuse it.
func (c *Cluster) ForgeIdentity(name string) (string, error) {
	realCA, err := identity.ReadCert(filepath.Join(c.identity, idCAFile))
	if err != nil {
		return "", err
	}
	realLeaf, err := identity.ReadCert(filepath.Join(c.identity, idCertFile))
	if err != nil {
		return "", err
	}
	rogueKey, err := identity.GenerateKey()
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: realCA.Subject,
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &rogueKey.PublicKey, rogueKey)
	if err != nil {
		return "", fmt.Errorf("rogue CA: %w", err)
	}
	rogueCA, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	hostKey, err := identity.GenerateKey()
	if err != nil {
		return "", err
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano() + 1), Subject: realLeaf.Subject,
		NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, rogueCA, &hostKey.PublicKey, rogueKey)
	if err != nil {
		return "", fmt.Errorf("forged host certificate: %w", err)
	}
	dir := filepath.Join(c.Dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return dir, writeIdentity(dir, c.identity, hostKey, leafDER)
}

// writeIdentity fills dir with the files of from, but the given key and
// certificate.
func writeIdentity(dir, from string, key *ecdsa.PrivateKey, certDER []byte) error {
	for _, f := range []string{idInfoFile, idCAFile} {
		b, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			return err
		}
		if err := identity.WritePrivate(filepath.Join(dir, f), b); err != nil {
			return err
		}
	}
	pemKey, err := identity.EncodeKeyPEM(key)
	if err != nil {
		return err
	}
	if err := identity.WritePrivate(filepath.Join(dir, idKeyFile), []byte(pemKey.Reveal())); err != nil {
		return err
	}
	return identity.WritePrivate(filepath.Join(dir, idCertFile), identity.EncodeCertPEM(certDER))
}

// OtherCAFingerprint is the fingerprint of a freshly made CA certificate:
// the pin of a hub that is not this cluster's.
func OtherCAFingerprint() (string, error) {
	key, err := identity.GenerateKey()
	if err != nil {
		return "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return identity.Fingerprint(cert), nil
}
