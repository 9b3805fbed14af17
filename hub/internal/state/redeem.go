package state

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Registration errors. A *KeyError carrying one of them says which key.
var (
	// ErrKeyUnknown means no key has this id and secret: it was made by
	// another hub, or the secret is wrong.
	ErrKeyUnknown = errors.New("registration key not known to this hub")
	// ErrKeyExpired means the key's validity ended.
	ErrKeyExpired = errors.New("registration key expired")
	// ErrKeyRedeemed means another public key already redeemed the key.
	ErrKeyRedeemed = errors.New("registration key already used")
	// ErrKeyRevoked means an operator revoked the key.
	ErrKeyRevoked = errors.New("registration key revoked")
	// ErrProjectMismatch means the key belongs to another project.
	ErrProjectMismatch = errors.New("registration key belongs to another project")
	// ErrHostRevoked means the host was revoked.
	ErrHostRevoked = errors.New("host revoked")
)

// KeyError is a registration failure about one key.
type KeyError struct {
	Err       error
	KeyID     string
	ProjectID string
	ExpiresAt time.Time
}

func (e *KeyError) Error() string {
	if errors.Is(e.Err, ErrKeyExpired) {
		return fmt.Sprintf("key %s: %v at %s", e.KeyID, e.Err, e.ExpiresAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("key %s: %v", e.KeyID, e.Err)
}

// Unwrap returns the sentinel.
func (e *KeyError) Unwrap() error { return e.Err }

// Redemption is one attempt to turn a key into a host.
type Redemption struct {
	KeyID         string
	SecretHash    string // hex SHA-256 of the presented secret
	ProjectID     string // as the key file names it
	PublicKeyHash string
	Hostname      string
	NewHostID     string // the id to give the host if this attempt wins
	Now           time.Time
}

// Redeem checks the key and, in one transaction, either moves it from
// unused to redeemed with a compare-and-set and records a new host, or,
// for a retry with the public key that redeemed it, returns that host. The
// bool reports whether the host is new.
func (s *Store) Redeem(ctx context.Context, r Redemption) (Host, bool, error) {
	var host Host
	var created bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		k, err := checkKey(ctx, tx, r)
		if err != nil {
			return err
		}
		if k.State == KeyRedeemed {
			host, err = retryHost(ctx, tx, k, r)
			return err
		}
		host, err = claimKey(ctx, tx, k, r)
		created = err == nil
		return err
	})
	return host, created, err
}

// checkKey finds the key and compares the secret hash in constant time.
func checkKey(ctx context.Context, tx *sql.Tx, r Redemption) (Key, error) {
	k, err := getKey(ctx, tx, r.KeyID)
	if errors.Is(err, ErrNotFound) {
		return Key{}, &KeyError{Err: ErrKeyUnknown, KeyID: r.KeyID}
	}
	if err != nil {
		return Key{}, err
	}
	if subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(r.SecretHash)) != 1 {
		return Key{}, &KeyError{Err: ErrKeyUnknown, KeyID: r.KeyID}
	}
	kerr := &KeyError{KeyID: k.ID, ProjectID: k.ProjectID, ExpiresAt: k.ExpiresAt}
	switch {
	case r.ProjectID != "" && r.ProjectID != k.ProjectID:
		kerr.Err = ErrProjectMismatch
	case k.State == KeyRevoked:
		kerr.Err = ErrKeyRevoked
	case !r.Now.Before(k.ExpiresAt):
		kerr.Err = ErrKeyExpired
	case k.State == KeyRedeemed && k.BoundKeyHash != r.PublicKeyHash:
		kerr.Err = ErrKeyRedeemed
	default:
		return k, nil
	}
	return Key{}, kerr
}

// retryHost returns the host a same-key retry already created.
func retryHost(ctx context.Context, tx *sql.Tx, k Key, r Redemption) (Host, error) {
	h, err := getHost(ctx, tx, k.RedeemedBy)
	if err != nil {
		return Host{}, err
	}
	if h.Revoked {
		return Host{}, fmt.Errorf("host %s: %w", h.ID, ErrHostRevoked)
	}
	return h, nil
}

// claimKey is the compare-and-set: only the transaction that sees the key
// unused moves it, and only that one records a host.
func claimKey(ctx context.Context, tx *sql.Tx, k Key, r Redemption) (Host, error) {
	res, err := tx.ExecContext(ctx, `UPDATE registration_keys
		SET state = ?, redeemed_by = ?, redeemed_at = ?, bound_key_hash = ?
		WHERE id = ? AND state = ?`,
		string(KeyRedeemed), r.NewHostID, unix(r.Now), r.PublicKeyHash, k.ID, string(KeyUnused))
	if err != nil {
		return Host{}, fmt.Errorf("redeem key %s: %w", k.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return Host{}, &KeyError{Err: ErrKeyRedeemed, KeyID: k.ID, ProjectID: k.ProjectID, ExpiresAt: k.ExpiresAt}
	}
	h := Host{ID: r.NewHostID, ProjectID: k.ProjectID, KeyID: k.ID, Hostname: r.Hostname,
		PublicKeyHash: r.PublicKeyHash, CreatedAt: r.Now}
	if err := insertHost(ctx, tx, h); err != nil {
		return Host{}, err
	}
	return h, nil
}
