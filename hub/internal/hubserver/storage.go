package hubserver

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// StorageKeyFile holds the storage account key, mode 0600.
const StorageKeyFile = "storage-key"

// ErrNoStorage means the hub has no storage account configured.
var ErrNoStorage = errors.New("no storage account configured (run hvm-hub storage set)")

// StorageConfig is the storage account the hub replicates into. The key is
// not in the config file but in StorageKeyFile beside it.
type StorageConfig struct {
	// Endpoint is the account's blob endpoint, https only.
	Endpoint string `json:"endpoint"`
	// Account is the account name the shared key signs for.
	Account string `json:"account"`
	// CAFile, when set, is a PEM file of the roots that verify the endpoint
	// (an emulator's private CA); empty means the system roots.
	CAFile string `json:"ca_file,omitempty"`
	// SASLifetime is how long an issued SAS stays valid (1h to 4h).
	SASLifetime Duration `json:"sas_lifetime"`
}

// Storage is the loaded storage account: config, key and roots.
type Storage struct {
	StorageConfig
	Key     secret.String
	RootCAs *x509.CertPool // nil: system roots
}

// SetStorage records the storage account of the hub in dir: the key goes
// to StorageKeyFile (0600), the rest into the config file.
func SetStorage(dir string, sc StorageConfig, key secret.String) error {
	if sc.SASLifetime == 0 {
		sc.SASLifetime = Duration(2 * time.Hour)
	}
	if err := checkStorage(sc, key); err != nil {
		return err
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		return err
	}
	if err := identity.WritePrivate(filepath.Join(dir, StorageKeyFile), []byte(key.Reveal())); err != nil {
		return err
	}
	cfg.Storage = &sc
	return writeJSON(filepath.Join(dir, ConfigFile), cfg)
}

func checkStorage(sc StorageConfig, key secret.String) error {
	u, err := url.Parse(sc.Endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("storage endpoint %q: must be an https URL without user or query", strings.SplitN(sc.Endpoint, "?", 2)[0])
	}
	if sc.Account == "" || key.IsZero() {
		return errors.New("storage account name and key are required")
	}
	if lt := time.Duration(sc.SASLifetime); lt < time.Hour || lt > 4*time.Hour {
		return fmt.Errorf("sas lifetime %s: must be between 1h and 4h", lt)
	}
	return nil
}

// LoadStorage returns the storage account configured in dir, or
// ErrNoStorage.
func LoadStorage(dir string) (Storage, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return Storage{}, err
	}
	if cfg.Storage == nil {
		return Storage{}, ErrNoStorage
	}
	key, err := identity.ReadPrivate(filepath.Join(dir, StorageKeyFile))
	if err != nil {
		return Storage{}, fmt.Errorf("storage key: %w", err)
	}
	st := Storage{StorageConfig: *cfg.Storage, Key: secret.New(strings.TrimSpace(string(key)))}
	if st.CAFile != "" {
		pem, err := os.ReadFile(st.CAFile)
		if err != nil {
			return Storage{}, fmt.Errorf("storage CA: %w", err)
		}
		st.RootCAs = x509.NewCertPool()
		if !st.RootCAs.AppendCertsFromPEM(pem) {
			return Storage{}, fmt.Errorf("storage CA %s: no certificate", st.CAFile)
		}
	}
	return st, nil
}
