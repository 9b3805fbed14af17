package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Throttle is the last upload limit an operator set for a host.
type Throttle struct {
	HostID             string
	WorkBps, OffBps    int64
	WorkStart, WorkEnd string
	CommandID          string
	UpdatedAt          time.Time
}

// SetThrottle records a host's limit.
func (s *Store) SetThrottle(ctx context.Context, t Throttle) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO host_throttles (host_id, work_bps, off_bps, work_start, work_end, command_id, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET work_bps = excluded.work_bps, off_bps = excluded.off_bps,
		work_start = excluded.work_start, work_end = excluded.work_end, command_id = excluded.command_id, updated_at = excluded.updated_at`,
		t.HostID, t.WorkBps, t.OffBps, t.WorkStart, t.WorkEnd, t.CommandID, unix(t.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save throttle of %s: %w", t.HostID, err)
	}
	return nil
}

// Throttles lists the recorded limits (of one host when hostID is set).
func (s *Store) Throttles(ctx context.Context, hostID string) ([]Throttle, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT host_id, work_bps, off_bps, work_start, work_end, command_id, updated_at
		FROM host_throttles WHERE ? = '' OR host_id = ? ORDER BY host_id`, hostID, hostID)
	if err != nil {
		return nil, fmt.Errorf("list throttles: %w", err)
	}
	defer rows.Close()
	var out []Throttle
	for rows.Next() {
		var t Throttle
		var at sql.NullInt64
		if err := rows.Scan(&t.HostID, &t.WorkBps, &t.OffBps, &t.WorkStart, &t.WorkEnd, &t.CommandID, &at); err != nil {
			return nil, err
		}
		t.UpdatedAt = fromUnix(at)
		out = append(out, t)
	}
	return out, rows.Err()
}
