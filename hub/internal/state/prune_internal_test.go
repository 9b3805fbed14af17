package state

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestStore_PruneEvents_manyBatches(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, DefaultConfig(filepath.Join(t.TempDir(), "hub.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 2*pruneBatch + 7
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT INTO projects (id, name, created_at) VALUES ('p', 'p', 1)`,
			`INSERT INTO registration_keys (id, project_id, secret_hash, state, created_at, expires_at) VALUES ('k', 'p', 'x', 'redeemed', 1, 2)`,
			`INSERT INTO hosts (id, project_id, key_id, hostname, public_key_hash, cert_serial, cert_not_after, created_at)
				VALUES ('h', 'p', 'k', 'h', 'x', '1', 2, 1)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		for i := range n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO events (host_id, id, kind, payload, received_at) VALUES ('h', ?, 'k', x'00', ?)`,
				i, 1000+i); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.PruneEvents(ctx, 3, time.Unix(1000+n, 0))
	if err != nil || got != n-3 {
		t.Fatalf("pruned %d, %v; want %d", got, err, n-3)
	}
	var left int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE received_at >= ?`, 1000+n-3).Scan(&left); err != nil || left != 3 {
		t.Fatalf("%d of the newest 3 left (%v)", left, err)
	}
}
