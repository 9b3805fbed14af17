// Package hubserver wires the hub together: the state directory that
// hvm-hub init lays out, and the two listeners hvm-hub serve runs.
//
// The provider listener serves registration and the provider stream on one
// port (TLS 1.3 only). Its TLS layer asks for a client certificate and
// verifies any it gets against the project CA (VerifyClientCertIfGiven), so
// a host with nothing but a registration key can call Register; every other
// method is refused unless the connection carries a verified host
// certificate (a deny-by-default interceptor that also refuses a revoked
// host, through the registry's cache, with a HOST_REVOKED reason); revoking
// a host also ends its live stream. One port keeps the host's firewall at
// one outbound rule.
//
// The admin listener is separate and requires a client certificate signed
// by the admin CA, a CA of its own that never signs host certificates, so
// no host certificate can ever pass as the operator; every admin call
// checks the admin identity again.
package hubserver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"hvmigrate/shared/identity"
)

// Files of a hub directory.
const (
	ConfigFile      = "hub.json"
	DatabaseFile    = "hub.db"
	CACertFile      = "ca.pem"
	CAKeyFile       = "ca-key.pem"
	AdminCACertFile = "admin-ca.pem"
	AdminCAKeyFile  = "admin-ca-key.pem"
	ServerCertFile  = "server.pem"
	ServerKeyFile   = "server-key.pem"
	AdminCredFile   = "admin-credential.pem"
	CtlConfigFile   = "hvmctl.json"
)

// Duration is a time.Duration written as "24h" in the config file.
type Duration time.Duration

// MarshalText writes d like time.Duration.String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses "90s", "24h", ...
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Config is the hub's config file.
type Config struct {
	// Listen is where providers connect (registration and stream).
	Listen string `json:"listen"`
	// AdminListen is where hvmctl connects.
	AdminListen string `json:"admin_listen"`
	// PublicAddress is Listen as hosts reach it; key files carry it.
	PublicAddress     string   `json:"public_address"`
	CertLifetime      Duration `json:"cert_lifetime"`
	MaxKeyValidity    Duration `json:"max_key_validity"`
	HeartbeatInterval Duration `json:"heartbeat_interval"`
	DeadPeerTimeout   Duration `json:"dead_peer_timeout"`
	// ShutdownGrace is how long serve waits for calls to finish on SIGTERM.
	ShutdownGrace Duration `json:"shutdown_grace"`
	// Events is the retention of the events hosts sent.
	Events EventRetention `json:"events"`
	// Storage is the storage account replicas go to; nil until set.
	Storage *StorageConfig `json:"storage,omitempty"`
}

// DefaultConfig holds every default in one place.
func DefaultConfig() Config {
	return Config{
		Listen:            "0.0.0.0:8443",
		AdminListen:       "127.0.0.1:8444",
		PublicAddress:     "localhost:8443",
		CertLifetime:      Duration(24 * time.Hour),
		MaxKeyValidity:    Duration(30 * 24 * time.Hour),
		HeartbeatInterval: Duration(15 * time.Second),
		DeadPeerTimeout:   Duration(45 * time.Second),
		ShutdownGrace:     Duration(10 * time.Second),
		Events:            DefaultEventRetention(),
	}
}

// LoadConfig reads dir's config file over the defaults.
func LoadConfig(dir string) (Config, error) {
	cfg := DefaultConfig()
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w (run hvm-hub init --dir %s first)", err, dir)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return Config{}, fmt.Errorf("parse %s: %w", path, err)
	}
	return cfg, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return identity.WritePrivate(path, append(b, '\n'))
}

// CtlConfig is the file hvmctl reads to find the hub and its credential.
type CtlConfig struct {
	Hub        string `json:"hub"`
	Credential string `json:"credential"`
}

// CAFingerprint returns the SHA-256 fingerprint of dir's project CA.
func CAFingerprint(dir string) (string, error) {
	ca, err := identity.ReadCert(filepath.Join(dir, CACertFile))
	if err != nil {
		return "", fmt.Errorf("read CA: %w", err)
	}
	return identity.Fingerprint(ca), nil
}
