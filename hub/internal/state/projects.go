package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Project is one migration project: the tenant keys and hosts belong to.
type Project struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// CreateProject stores p; a name already taken gives ErrExists.
func (s *Store) CreateProject(ctx context.Context, p Project) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM projects WHERE name = ? OR id = ?`, p.Name, p.ID).Scan(&n); err != nil {
			return fmt.Errorf("check project %s: %w", p.Name, err)
		}
		if n > 0 {
			return fmt.Errorf("project %q: %w", p.Name, ErrExists)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO projects (id, name, created_at) VALUES (?, ?, ?)`,
			p.ID, p.Name, unix(p.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert project %s: %w", p.Name, err)
		}
		return nil
	})
}

// Projects lists every project by name.
func (s *Store) Projects(ctx context.Context) ([]Project, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at FROM projects ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		var created sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Name, &created); err != nil {
			return nil, fmt.Errorf("scan project: %w", err)
		}
		p.CreatedAt = fromUnix(created)
		out = append(out, p)
	}
	return out, rows.Err()
}

// FindProject returns the project whose id or name is ref.
func (s *Store) FindProject(ctx context.Context, ref string) (Project, error) {
	var p Project
	var created sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, created_at FROM projects WHERE id = ? OR name = ?`, ref, ref).
		Scan(&p.ID, &p.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Project{}, fmt.Errorf("project %q: %w", ref, ErrNotFound)
	}
	if err != nil {
		return Project{}, fmt.Errorf("find project %q: %w", ref, err)
	}
	p.CreatedAt = fromUnix(created)
	return p, nil
}
