package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeyState is the life cycle of a registration key.
type KeyState string

// Registration key states.
const (
	KeyUnused   KeyState = "unused"
	KeyRedeemed KeyState = "redeemed"
	KeyRevoked  KeyState = "revoked"
)

// Key is a registration key as the hub stores it: the hash of its secret,
// never the secret.
type Key struct {
	ID           string
	ProjectID    string
	SecretHash   string // hex SHA-256 of the secret
	State        KeyState
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RedeemedBy   string // host id
	RedeemedAt   time.Time
	BoundKeyHash string // hex SHA-256 of the redeeming host's public key
}

const keyColumns = `id, project_id, secret_hash, state, created_at, expires_at,
	redeemed_by, redeemed_at, bound_key_hash`

// CreateKey stores a new unused key.
func (s *Store) CreateKey(ctx context.Context, k Key) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO registration_keys
		(id, project_id, secret_hash, state, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.ProjectID, k.SecretHash, string(KeyUnused), unix(k.CreatedAt), unix(k.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert key %s: %w", k.ID, err)
	}
	return nil
}

// Keys lists the keys of a project (every project when projectID is
// empty), newest first.
func (s *Store) Keys(ctx context.Context, projectID string) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM registration_keys
		WHERE ? = '' OR project_id = ? ORDER BY created_at DESC, id`, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// GetKey returns one key.
func (s *Store) GetKey(ctx context.Context, id string) (Key, error) {
	return getKey(ctx, s.db, id)
}

// RevokeKey marks an unused key revoked. Revoking a redeemed key only
// stops its retries; the host it made stays (revoke the host for that).
func (s *Store) RevokeKey(ctx context.Context, id string) (Key, error) {
	var k Key
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getKey(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE registration_keys SET state = ? WHERE id = ?`, string(KeyRevoked), id); err != nil {
			return fmt.Errorf("revoke key %s: %w", id, err)
		}
		var err error
		k, err = getKey(ctx, tx, id)
		return err
	})
	return k, err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getKey(ctx context.Context, q querier, id string) (Key, error) {
	k, err := scanKey(q.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM registration_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("key %q: %w", id, ErrNotFound)
	}
	return k, err
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(sc scanner) (Key, error) {
	var k Key
	var state string
	var created, expires, redeemedAt sql.NullInt64
	var redeemedBy, bound sql.NullString
	err := sc.Scan(&k.ID, &k.ProjectID, &k.SecretHash, &state, &created, &expires, &redeemedBy, &redeemedAt, &bound)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Key{}, err
		}
		return Key{}, fmt.Errorf("scan key: %w", err)
	}
	k.State, k.RedeemedBy, k.BoundKeyHash = KeyState(state), redeemedBy.String, bound.String
	k.CreatedAt, k.ExpiresAt, k.RedeemedAt = fromUnix(created), fromUnix(expires), fromUnix(redeemedAt)
	return k, nil
}
