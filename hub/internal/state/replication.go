package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Replication states.
const (
	ReplInitialCopy = "initial_copy"
	ReplReplicating = "replicating"
	ReplDisabled    = "disabled"
	ReplMigrating   = "migrating"
	ReplMigrated    = "migrated"
)

// Replication is one replicated VM: its policy and how far it is.
type Replication struct {
	VMID, HostID, ProjectID, Name string
	State                         string
	Generation                    int64
	Interval                      time.Duration
	Threads                       int
	KeepLatest                    int
	KeepWindow, KeepInterval      time.Duration
	AppliedCycle                  uint64
	AppliedAt                     time.Time
	SwitchedAt                    time.Time // source log switch of the applied cycle
	GrantedThrough                uint64    // highest cycle with an issued grant
	GrantsExpireAt                time.Time
	Health, HealthMessage         string
	CreatedAt, UpdatedAt          time.Time
	Disks                         []ReplicationDisk
}

// ReplicationDisk is one replicated disk and its copy progress.
type ReplicationDisk struct {
	DiskID, Name          string
	SizeBytes             int64
	Phase                 string
	DoneBytes, TotalBytes uint64
	ProgressAt            time.Time
}

// listQuerier runs queries on the database or in a transaction.
type listQuerier interface {
	querier
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const replColumns = `vm_id, host_id, project_id, name, state, generation, interval_seconds, threads,
	keep_latest, keep_window_s, keep_interval_s, applied_cycle, applied_at, switched_ms, granted_through,
	grants_expire_at, health, health_message, created_at, updated_at`

// PutReplication records a new replication of r.VMID with its disks. A VM
// whose earlier replication is disabled starts again with the next
// generation; one replicating now is ErrExists.
func (s *Store) PutReplication(ctx context.Context, r Replication) (Replication, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := getReplication(ctx, tx, r.VMID)
		switch {
		case err == nil && old.State != ReplDisabled:
			return fmt.Errorf("replication of vm %q: %w", r.VMID, ErrExists)
		case err == nil:
			r.Generation = old.Generation + 1
			if err := deleteReplication(ctx, tx, r.VMID); err != nil {
				return err
			}
		case errors.Is(err, ErrNotFound):
			r.Generation = 1
		default:
			return err
		}
		return insertReplication(ctx, tx, r)
	})
	return r, err
}

func deleteReplication(ctx context.Context, tx *sql.Tx, vmID string) error {
	for _, q := range []string{`DELETE FROM replication_disks WHERE vm_id = ?`, `DELETE FROM cycle_manifests WHERE vm_id = ?`,
		`DELETE FROM replications WHERE vm_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, vmID); err != nil {
			return fmt.Errorf("clear replication of %s: %w", vmID, err)
		}
	}
	return nil
}

func insertReplication(ctx context.Context, tx *sql.Tx, r Replication) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO replications (`+replColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		replArgs(r)...)
	if err != nil {
		return fmt.Errorf("insert replication of %s: %w", r.VMID, err)
	}
	for _, d := range r.Disks {
		_, err := tx.ExecContext(ctx, `INSERT INTO replication_disks (vm_id, disk_id, name, size_bytes, phase, done_bytes, total_bytes)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.VMID, d.DiskID, d.Name, d.SizeBytes, d.Phase, int64(d.DoneBytes), int64(d.TotalBytes))
		if err != nil {
			return fmt.Errorf("insert disk %s of %s: %w", d.DiskID, r.VMID, err)
		}
	}
	return nil
}

func replArgs(r Replication) []any {
	return []any{r.VMID, r.HostID, r.ProjectID, r.Name, r.State, r.Generation, int64(r.Interval / time.Second), r.Threads,
		r.KeepLatest, int64(r.KeepWindow / time.Second), int64(r.KeepInterval / time.Second), int64(r.AppliedCycle),
		unix(r.AppliedAt), r.SwitchedAt.UnixMilli(), int64(r.GrantedThrough), unix(r.GrantsExpireAt),
		r.Health, r.HealthMessage, unix(r.CreatedAt), unix(r.UpdatedAt)}
}

// GetReplication returns a VM's replication with its disks.
func (s *Store) GetReplication(ctx context.Context, vmID string) (Replication, error) {
	return getReplication(ctx, s.db, vmID)
}

func getReplication(ctx context.Context, q listQuerier, vmID string) (Replication, error) {
	r, err := scanReplication(q.QueryRowContext(ctx, `SELECT `+replColumns+` FROM replications WHERE vm_id = ?`, vmID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("replication of vm %q: %w", vmID, ErrNotFound)
	}
	if err != nil {
		return r, err
	}
	r.Disks, err = replicationDisks(ctx, q, vmID)
	return r, err
}

// Replications lists every replication, by name.
func (s *Store) Replications(ctx context.Context) ([]Replication, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+replColumns+` FROM replications ORDER BY name, vm_id`)
	if err != nil {
		return nil, fmt.Errorf("list replications: %w", err)
	}
	var out []Replication
	for rows.Next() {
		r, err := scanReplication(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Disks, err = replicationDisks(ctx, s.db, out[i].VMID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UpdateReplication reads a VM's replication, lets fn change it, and writes
// its scalar fields back in one transaction (disks are not written).
func (s *Store) UpdateReplication(ctx context.Context, vmID string, fn func(*Replication) error) (Replication, error) {
	var r Replication
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = getReplication(ctx, tx, vmID); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
		args := append(replArgs(r)[1:], r.VMID)
		_, err = tx.ExecContext(ctx, `UPDATE replications SET host_id=?, project_id=?, name=?, state=?, generation=?,
			interval_seconds=?, threads=?, keep_latest=?, keep_window_s=?, keep_interval_s=?, applied_cycle=?, applied_at=?,
			switched_ms=?, granted_through=?, grants_expire_at=?, health=?, health_message=?, created_at=?, updated_at=?
			WHERE vm_id = ?`, args...)
		return err
	})
	return r, err
}

func scanReplication(sc scanner) (Replication, error) {
	var r Replication
	var interval, window, slot, applied, granted int64
	var appliedAt, switched, expires sql.NullInt64
	var created, updated sql.NullInt64
	err := sc.Scan(&r.VMID, &r.HostID, &r.ProjectID, &r.Name, &r.State, &r.Generation, &interval, &r.Threads,
		&r.KeepLatest, &window, &slot, &applied, &appliedAt, &switched, &granted, &expires,
		&r.Health, &r.HealthMessage, &created, &updated)
	if err != nil {
		return r, err
	}
	r.Interval, r.KeepWindow, r.KeepInterval = time.Duration(interval)*time.Second, time.Duration(window)*time.Second, time.Duration(slot)*time.Second
	r.AppliedCycle, r.GrantedThrough = uint64(applied), uint64(granted)
	r.AppliedAt, r.GrantsExpireAt, r.CreatedAt, r.UpdatedAt = fromUnix(appliedAt), fromUnix(expires), fromUnix(created), fromUnix(updated)
	if switched.Valid && switched.Int64 > 0 {
		r.SwitchedAt = time.UnixMilli(switched.Int64).UTC()
	}
	return r, nil
}

func replicationDisks(ctx context.Context, q listQuerier, vmID string) ([]ReplicationDisk, error) {
	rows, err := q.QueryContext(ctx, `SELECT disk_id, name, size_bytes, phase, done_bytes, total_bytes, progress_at
		FROM replication_disks WHERE vm_id = ? ORDER BY disk_id`, vmID)
	if err != nil {
		return nil, fmt.Errorf("disks of %s: %w", vmID, err)
	}
	defer rows.Close()
	var out []ReplicationDisk
	for rows.Next() {
		var d ReplicationDisk
		var done, total int64
		var at sql.NullInt64
		if err := rows.Scan(&d.DiskID, &d.Name, &d.SizeBytes, &d.Phase, &done, &total, &at); err != nil {
			return nil, err
		}
		d.DoneBytes, d.TotalBytes, d.ProgressAt = uint64(done), uint64(total), fromUnix(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SetDiskProgress records a disk's copy progress.
func (s *Store) SetDiskProgress(ctx context.Context, vmID string, d ReplicationDisk) error {
	res, err := s.db.ExecContext(ctx, `UPDATE replication_disks SET phase = ?, done_bytes = ?, total_bytes = ?, progress_at = ?
		WHERE vm_id = ? AND disk_id = ?`, d.Phase, int64(d.DoneBytes), int64(d.TotalBytes), unix(d.ProgressAt), vmID, d.DiskID)
	return expectOne(res, err, "replicated disk", vmID+"/"+d.DiskID)
}
