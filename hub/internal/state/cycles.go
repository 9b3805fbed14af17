package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Manifest is one cycle a host reported for a VM.
type Manifest struct {
	VMID       string
	Cycle      uint64
	SwitchedAt time.Time
	Disks      []ManifestDisk
	TotalBytes int64
	ReceivedAt time.Time
}

// ManifestDisk is one disk's delta object of a cycle.
type ManifestDisk struct {
	DiskID string `json:"disk_id"`
	Object string `json:"object"`
	Size   int64  `json:"size"`
}

// SaveManifest stores a cycle's manifest once; it reports whether the cycle
// was already stored (the first report wins).
func (s *Store) SaveManifest(ctx context.Context, m Manifest) (bool, error) {
	disks, err := json.Marshal(m.Disks)
	if err != nil {
		return false, fmt.Errorf("encode manifest: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO cycle_manifests (vm_id, cycle, switched_ms, disks, total_bytes, received_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (vm_id, cycle) DO NOTHING`,
		m.VMID, int64(m.Cycle), m.SwitchedAt.UnixMilli(), string(disks), m.TotalBytes, unix(m.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("save manifest %s/%d: %w", m.VMID, m.Cycle, err)
	}
	n, err := res.RowsAffected()
	return n == 0, err
}

// GetManifest returns one cycle's manifest.
func (s *Store) GetManifest(ctx context.Context, vmID string, cycle uint64) (Manifest, error) {
	m := Manifest{VMID: vmID, Cycle: cycle}
	var switched int64
	var disks string
	var recv sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT switched_ms, disks, total_bytes, received_at FROM cycle_manifests
		WHERE vm_id = ? AND cycle = ?`, vmID, int64(cycle)).Scan(&switched, &disks, &m.TotalBytes, &recv)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("manifest of vm %q cycle %d: %w", vmID, cycle, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("manifest %s/%d: %w", vmID, cycle, err)
	}
	m.SwitchedAt, m.ReceivedAt = time.UnixMilli(switched).UTC(), fromUnix(recv)
	return m, json.Unmarshal([]byte(disks), &m.Disks)
}

// ManifestSummary tells how many cycles a VM reported past a cycle.
type ManifestSummary struct {
	Latest       uint64 // highest cycle reported
	PendingBytes int64  // bytes of the reported cycles above the applied one
}

// SummariseManifests returns the latest cycle reported and the bytes not
// yet applied above applied.
func (s *Store) SummariseManifests(ctx context.Context, vmID string, applied uint64) (ManifestSummary, error) {
	var out ManifestSummary
	var latest, pending sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(cycle), SUM(CASE WHEN cycle > ? THEN total_bytes ELSE 0 END)
		FROM cycle_manifests WHERE vm_id = ?`, int64(applied), vmID).Scan(&latest, &pending)
	out.Latest, out.PendingBytes = uint64(latest.Int64), pending.Int64
	return out, err
}

// RecoveryPoint is a recorded recovery point.
type RecoveryPoint struct {
	VMID        string
	Cycle       uint64
	TakenAt     time.Time
	Consistency int
	State       int
	Disks       []PointDisk
}

// PointDisk is one disk's snapshot of a point.
type PointDisk struct {
	DiskID   string `json:"disk_id"`
	Blob     string `json:"blob"`
	Snapshot string `json:"snapshot"`
}

// SavePoint inserts or replaces a point.
func (s *Store) SavePoint(ctx context.Context, p RecoveryPoint) error {
	disks, err := json.Marshal(p.Disks)
	if err != nil {
		return fmt.Errorf("encode point: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO recovery_points (vm_id, cycle, taken_at, consistency, state, disks)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (vm_id, cycle) DO UPDATE SET taken_at = excluded.taken_at,
		consistency = excluded.consistency, state = excluded.state, disks = excluded.disks`,
		p.VMID, int64(p.Cycle), unix(p.TakenAt), p.Consistency, p.State, string(disks))
	if err != nil {
		return fmt.Errorf("save point %s/%d: %w", p.VMID, p.Cycle, err)
	}
	return nil
}

// Points lists a VM's points, oldest first.
func (s *Store) Points(ctx context.Context, vmID string) ([]RecoveryPoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT cycle, taken_at, consistency, state, disks FROM recovery_points
		WHERE vm_id = ? ORDER BY cycle`, vmID)
	if err != nil {
		return nil, fmt.Errorf("points of %s: %w", vmID, err)
	}
	defer rows.Close()
	var out []RecoveryPoint
	for rows.Next() {
		p := RecoveryPoint{VMID: vmID}
		var cycle int64
		var taken sql.NullInt64
		var disks string
		if err := rows.Scan(&cycle, &taken, &p.Consistency, &p.State, &disks); err != nil {
			return nil, err
		}
		p.Cycle, p.TakenAt = uint64(cycle), fromUnix(taken)
		if err := json.Unmarshal([]byte(disks), &p.Disks); err != nil {
			return nil, fmt.Errorf("point %s/%d: %w", vmID, cycle, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RemovePoint forgets a point; an absent one is not an error.
func (s *Store) RemovePoint(ctx context.Context, vmID string, cycle uint64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM recovery_points WHERE vm_id = ? AND cycle = ?`, vmID, int64(cycle))
	return err
}

// HostHealth is a host's last health report.
type HostHealth struct {
	HostID, Status, Message string
	UpdatedAt               time.Time
}

// SetHostHealth records a host's health report.
func (s *Store) SetHostHealth(ctx context.Context, h HostHealth) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO host_health (host_id, status, message, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (host_id) DO UPDATE SET status = excluded.status, message = excluded.message, updated_at = excluded.updated_at`,
		h.HostID, h.Status, h.Message, unix(h.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save health of %s: %w", h.HostID, err)
	}
	return nil
}

// HostHealths returns every host's last health report by host id.
func (s *Store) HostHealths(ctx context.Context) (map[string]HostHealth, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT host_id, status, message, updated_at FROM host_health`)
	if err != nil {
		return nil, fmt.Errorf("host health: %w", err)
	}
	defer rows.Close()
	out := map[string]HostHealth{}
	for rows.Next() {
		var h HostHealth
		var at sql.NullInt64
		if err := rows.Scan(&h.HostID, &h.Status, &h.Message, &at); err != nil {
			return nil, err
		}
		h.UpdatedAt = fromUnix(at)
		out[h.HostID] = h
	}
	return out, rows.Err()
}
