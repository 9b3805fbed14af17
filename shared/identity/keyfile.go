package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"hvmigrate/shared/secret"
)

// ErrBadKeyFile means a registration key file is malformed or incomplete.
var ErrBadKeyFile = errors.New("bad registration key file")

// secretBytes is the size of a registration secret: 256 random bits.
const secretBytes = 32

// maxKeyFile bounds a key file read from disk or the wire.
const maxKeyFile = 16 << 10

// KeyFile is what an operator hands to a host so it can register: where
// the hub is, which CA to trust, and a one-time secret.
type KeyFile struct {
	Hub           string        // host:port of the hub's provider listener
	ProjectID     string        // the project the key belongs to
	KeyID         string        // the key's id (not secret)
	CAFingerprint string        // "sha256:<hex>" of the hub CA certificate
	Secret        secret.String // the one-time secret
	ExpiresAt     time.Time
}

// keyFileJSON is the on-disk form; only it ever holds the revealed secret.
type keyFileJSON struct {
	Hub           string    `json:"hub"`
	ProjectID     string    `json:"project_id"`
	KeyID         string    `json:"key_id"`
	CAFingerprint string    `json:"ca_fingerprint"`
	Secret        string    `json:"secret"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// NewSecret returns a fresh registration secret from crypto/rand.
func NewSecret() (secret.String, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return secret.String{}, fmt.Errorf("registration secret: %w", err)
	}
	return secret.New(base64.RawURLEncoding.EncodeToString(b)), nil
}

// SecretHash returns the hex SHA-256 of a secret: what the hub stores.
func SecretHash(s secret.String) string {
	sum := sha256.Sum256([]byte(s.Reveal()))
	return hex.EncodeToString(sum[:])
}

// MarshalKeyFile returns the key file document, secret included.
func MarshalKeyFile(k KeyFile) ([]byte, error) {
	b, err := json.MarshalIndent(keyFileJSON{
		Hub: k.Hub, ProjectID: k.ProjectID, KeyID: k.KeyID, CAFingerprint: k.CAFingerprint,
		Secret: k.Secret.Reveal(), ExpiresAt: k.ExpiresAt.UTC(),
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseKeyFile reads and validates a key file document.
func ParseKeyFile(b []byte) (KeyFile, error) {
	if len(b) > maxKeyFile {
		return KeyFile{}, fmt.Errorf("%w: larger than %d bytes", ErrBadKeyFile, maxKeyFile)
	}
	var j keyFileJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return KeyFile{}, fmt.Errorf("%w: %w", ErrBadKeyFile, err)
	}
	k := KeyFile{Hub: j.Hub, ProjectID: j.ProjectID, KeyID: j.KeyID, CAFingerprint: j.CAFingerprint,
		Secret: secret.New(j.Secret), ExpiresAt: j.ExpiresAt}
	return k, k.validate()
}

func (k KeyFile) validate() error {
	if _, _, err := net.SplitHostPort(k.Hub); err != nil {
		return fmt.Errorf("%w: hub %q: %w", ErrBadKeyFile, k.Hub, err)
	}
	missing := ""
	switch {
	case k.ProjectID == "":
		missing = "project_id"
	case k.KeyID == "":
		missing = "key_id"
	case len(normalise(k.CAFingerprint)) != 64:
		missing = "ca_fingerprint"
	case k.Secret.IsZero():
		missing = "secret"
	case k.ExpiresAt.IsZero():
		missing = "expires_at"
	}
	if missing != "" {
		return fmt.Errorf("%w: field %s is missing or malformed", ErrBadKeyFile, missing)
	}
	return nil
}
