package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// pruneBatch bounds the rows one pruning statement deletes, so a large
// backlog never holds the write lock for long.
const pruneBatch = 5000

// PruneEvents deletes the events received before before, except at least
// each host's keep most recent ones, and returns how many it deleted.
//
// The events table only recognises a repeated event id. A host re-sends
// only what the hub has not acknowledged, which is among its latest
// events, so keeping at least as many per host as a host's outbox holds
// keeps every repeat recognised however long the host was away.
func (s *Store) PruneEvents(ctx context.Context, keep int, before time.Time) (int64, error) {
	if keep < 0 {
		return 0, fmt.Errorf("prune events: keep %d < 0", keep)
	}
	hosts, err := s.eventHosts(ctx)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, h := range hosts {
		n, err := s.pruneHostEvents(ctx, h, keep, unix(before))
		total += n
		if err != nil {
			return total, fmt.Errorf("prune events of host %s: %w", h, err)
		}
	}
	return total, nil
}

// eventHosts lists the hosts that have events.
func (s *Store) eventHosts(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT host_id FROM events`)
	if err != nil {
		return nil, fmt.Errorf("list hosts with events: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("scan host id: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// pruneHostEvents deletes one host's events received before the earlier
// of before and its keep-th newest event, pruneBatch rows at a time.
func (s *Store) pruneHostEvents(ctx context.Context, host string, keep int, before int64) (int64, error) {
	if keep > 0 {
		var kth int64
		err := s.db.QueryRowContext(ctx, `SELECT received_at FROM events WHERE host_id = ?
			ORDER BY received_at DESC LIMIT 1 OFFSET ?`, host, keep-1).Scan(&kth)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil // keep or fewer events
		}
		if err != nil {
			return 0, err
		}
		before = min(before, kth)
	}
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE host_id = ? AND id IN (
			SELECT id FROM events WHERE host_id = ? AND received_at < ? LIMIT ?)`, host, host, before, pruneBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
