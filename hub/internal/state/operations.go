package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Operation is a durable record of a multi-step operation on a VM (a test
// migration run, a migration): its last completed step and a detail
// document the operation owns.
type Operation struct {
	ID        string
	VMID      string
	Kind      string
	Step      string
	Detail    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PutOperation inserts an operation or moves it to o.Step and o.Detail.
func (s *Store) PutOperation(ctx context.Context, o Operation) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO operations (id, vm_id, kind, step, detail, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET step = excluded.step, detail = excluded.detail,
		updated_at = excluded.updated_at`, o.ID, o.VMID, o.Kind, o.Step, o.Detail, unix(o.CreatedAt), unix(o.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save operation %s: %w", o.ID, err)
	}
	return nil
}

// GetOperation returns one operation.
func (s *Store) GetOperation(ctx context.Context, id string) (Operation, error) {
	o := Operation{ID: id}
	var created, updated sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT vm_id, kind, step, detail, created_at, updated_at FROM operations WHERE id = ?`, id).
		Scan(&o.VMID, &o.Kind, &o.Step, &o.Detail, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("operation %q: %w", id, ErrNotFound)
	}
	o.CreatedAt, o.UpdatedAt = fromUnix(created), fromUnix(updated)
	return o, err
}

// Operations lists a VM's operations of a kind, oldest first.
func (s *Store) Operations(ctx context.Context, vmID, kind string) ([]Operation, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, step, detail, created_at, updated_at FROM operations
		WHERE vm_id = ? AND kind = ? ORDER BY created_at, id`, vmID, kind)
	if err != nil {
		return nil, fmt.Errorf("operations of %s: %w", vmID, err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		o := Operation{VMID: vmID, Kind: kind}
		var created, updated sql.NullInt64
		if err := rows.Scan(&o.ID, &o.Step, &o.Detail, &created, &updated); err != nil {
			return nil, err
		}
		o.CreatedAt, o.UpdatedAt = fromUnix(created), fromUnix(updated)
		out = append(out, o)
	}
	return out, rows.Err()
}

// DeleteOperation forgets an operation; an absent one is not an error.
func (s *Store) DeleteOperation(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM operations WHERE id = ?`, id)
	return err
}
