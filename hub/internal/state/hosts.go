package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Host is a registered provider host.
type Host struct {
	ID            string
	ProjectID     string
	KeyID         string
	Hostname      string
	PublicKeyHash string
	CertSerial    string
	CertNotAfter  time.Time
	Revoked       bool
	RevokedAt     time.Time
	CreatedAt     time.Time
	LastSeen      time.Time
}

const hostColumns = `id, project_id, key_id, hostname, public_key_hash, cert_serial,
	cert_not_after, revoked, revoked_at, created_at, last_seen`

func insertHost(ctx context.Context, tx *sql.Tx, h Host) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO hosts
		(id, project_id, key_id, hostname, public_key_hash, cert_serial, cert_not_after, revoked, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)`,
		h.ID, h.ProjectID, h.KeyID, h.Hostname, h.PublicKeyHash, h.CertSerial, unix(h.CertNotAfter), unix(h.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert host %s: %w", h.ID, err)
	}
	return nil
}

// GetHost returns one host.
func (s *Store) GetHost(ctx context.Context, id string) (Host, error) {
	return getHost(ctx, s.db, id)
}

func getHost(ctx context.Context, q querier, id string) (Host, error) {
	h, err := scanHost(q.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, fmt.Errorf("host %q: %w", id, ErrNotFound)
	}
	return h, err
}

// Hosts lists the hosts of a project (every project when empty).
func (s *Store) Hosts(ctx context.Context, projectID string) ([]Host, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts
		WHERE ? = '' OR project_id = ? ORDER BY created_at, id`, projectID, projectID)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	var out []Host
	for rows.Next() {
		h, err := scanHost(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// SetHostCertificate records the certificate last issued to a host, and
// the public key it certifies (renewal may rotate the key).
func (s *Store) SetHostCertificate(ctx context.Context, id, serial, publicKeyHash string, notAfter time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE hosts SET cert_serial = ?, cert_not_after = ?, public_key_hash = ? WHERE id = ?`,
		serial, unix(notAfter), publicKeyHash, id)
	return expectOne(res, err, "host", id)
}

// RevokeHost marks a host revoked.
func (s *Store) RevokeHost(ctx context.Context, id string, now time.Time) (Host, error) {
	var h Host
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET revoked = 1, revoked_at = ? WHERE id = ? AND revoked = 0`, unix(now), id)
		if err != nil {
			return fmt.Errorf("revoke host %s: %w", id, err)
		}
		if _, err := res.RowsAffected(); err != nil {
			return err
		}
		h, err = getHost(ctx, tx, id)
		return err
	})
	return h, err
}

// TouchHost records that the host was seen at now.
func (s *Store) TouchHost(ctx context.Context, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE hosts SET last_seen = ? WHERE id = ?`, unix(now), id)
	return expectOne(res, err, "host", id)
}

func expectOne(res sql.Result, err error, what, id string) error {
	if err != nil {
		return fmt.Errorf("update %s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %q: %w", what, id, ErrNotFound)
	}
	return nil
}

func scanHost(sc scanner) (Host, error) {
	var h Host
	var revoked int
	var notAfter, revokedAt, created, seen sql.NullInt64
	err := sc.Scan(&h.ID, &h.ProjectID, &h.KeyID, &h.Hostname, &h.PublicKeyHash, &h.CertSerial,
		&notAfter, &revoked, &revokedAt, &created, &seen)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Host{}, err
		}
		return Host{}, fmt.Errorf("scan host: %w", err)
	}
	h.Revoked = revoked != 0
	h.CertNotAfter, h.RevokedAt, h.CreatedAt, h.LastSeen = fromUnix(notAfter), fromUnix(revokedAt), fromUnix(created), fromUnix(seen)
	return h, nil
}
