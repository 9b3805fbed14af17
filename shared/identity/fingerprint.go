package identity

import (
	"crypto"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// fingerprintPrefix names the hash of every fingerprint this package makes.
const fingerprintPrefix = "sha256:"

// Fingerprint returns "sha256:" and the hex SHA-256 of the certificate's DER.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return fingerprintPrefix + hex.EncodeToString(sum[:])
}

// FingerprintsEqual compares two fingerprints, ignoring case and an absent
// "sha256:" prefix, in constant time.
func FingerprintsEqual(a, b string) bool {
	na, nb := normalise(a), normalise(b)
	return len(na) == 64 && subtle.ConstantTimeCompare([]byte(na), []byte(nb)) == 1
}

func normalise(fp string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(fp)), fingerprintPrefix)
}

// PublicKeyHash returns the hex SHA-256 of the key's PKIX DER encoding: the
// value the hub binds a redeemed registration key and a host to.
func PublicKeyHash(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("marshal public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}
