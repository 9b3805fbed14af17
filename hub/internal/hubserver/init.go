package hubserver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
)

// ErrInitialised means the directory already holds a hub.
var ErrInitialised = errors.New("directory already holds a hub")

// Lifetimes of what init creates.
const (
	caLifetime     = 10 * 365 * 24 * time.Hour
	serverLifetime = 2 * 365 * 24 * time.Hour
	adminLifetime  = 365 * 24 * time.Hour
)

// Init lays out a new hub in dir: the state database, the project CA, the
// admin CA, the hub's server certificate, the admin credential and the
// config files. It refuses a directory that already has a config.
func Init(ctx context.Context, dir string, cfg Config) error {
	if _, err := os.Stat(filepath.Join(dir, ConfigFile)); err == nil {
		return fmt.Errorf("%s: %w", dir, ErrInitialised)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	now := time.Now()
	if err := initDatabase(ctx, dir); err != nil {
		return err
	}
	project, err := writeCA(dir, "hvmigrate hub CA", CACertFile, CAKeyFile, now)
	if err != nil {
		return err
	}
	admin, err := writeCA(dir, "hvmigrate admin CA", AdminCACertFile, AdminCAKeyFile, now)
	if err != nil {
		return err
	}
	if err := writeServerCert(dir, project, cfg, now); err != nil {
		return err
	}
	if err := writeAdminCredential(dir, admin, project, now); err != nil {
		return err
	}
	return writeConfigs(dir, cfg)
}

// initDatabase creates the database file 0600 before SQLite does.
func initDatabase(ctx context.Context, dir string) error {
	path := filepath.Join(dir, DatabaseFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	st, err := state.Open(ctx, state.DefaultConfig(path))
	if err != nil {
		return err
	}
	return st.Close()
}

func writeCA(dir, name, certFile, keyFile string, now time.Time) (*ca.CA, error) {
	c, err := ca.New(name, caLifetime, now)
	if err != nil {
		return nil, err
	}
	key, err := c.KeyPEM()
	if err != nil {
		return nil, err
	}
	if err := identity.WritePrivate(filepath.Join(dir, keyFile), []byte(key.Reveal())); err != nil {
		return nil, err
	}
	return c, os.WriteFile(filepath.Join(dir, certFile), identity.EncodeCertPEM(c.Cert().Raw), 0o644)
}

// writeServerCert issues the hub's TLS certificate for the public address
// and loopback; server.pem holds the leaf and the CA so a host can pin the
// CA from the chain.
func writeServerCert(dir string, project *ca.CA, cfg Config, now time.Time) error {
	host, _, err := net.SplitHostPort(cfg.PublicAddress)
	if err != nil {
		return fmt.Errorf("public address %q: %w", cfg.PublicAddress, err)
	}
	key, err := identity.GenerateKey()
	if err != nil {
		return err
	}
	names := uniq(host, "localhost", "127.0.0.1", "::1")
	cert, err := project.IssueServer(&key.PublicKey, names, serverLifetime, now)
	if err != nil {
		return err
	}
	keyPEM, err := identity.EncodeKeyPEM(key)
	if err != nil {
		return err
	}
	if err := identity.WritePrivate(filepath.Join(dir, ServerKeyFile), []byte(keyPEM.Reveal())); err != nil {
		return err
	}
	chain := append(identity.EncodeCertPEM(cert.Raw), identity.EncodeCertPEM(project.Cert().Raw)...)
	return os.WriteFile(filepath.Join(dir, ServerCertFile), chain, 0o644)
}

// writeAdminCredential issues hvmctl's client certificate from the admin
// CA and bundles it with its key and the project CA (to verify the hub).
func writeAdminCredential(dir string, admin, project *ca.CA, now time.Time) error {
	key, err := identity.GenerateKey()
	if err != nil {
		return err
	}
	cert, err := admin.IssueClient(ca.ClientSpec{CommonName: "admin", OrgUnit: ca.AdminOU,
		PublicKey: &key.PublicKey, Lifetime: adminLifetime, Now: now})
	if err != nil {
		return err
	}
	doc, err := identity.EncodeBundle(identity.Bundle{Cert: cert, Key: key, CAs: []*x509.Certificate{project.Cert()}})
	if err != nil {
		return err
	}
	return identity.WritePrivate(filepath.Join(dir, AdminCredFile), []byte(doc.Reveal()))
}

func writeConfigs(dir string, cfg Config) error {
	abs, err := filepath.Abs(filepath.Join(dir, AdminCredFile))
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, CtlConfigFile), CtlConfig{Hub: dialable(cfg.AdminListen), Credential: abs}); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, ConfigFile), cfg)
}

// dialable turns a wildcard listen address into a loopback one.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func uniq(xs ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
