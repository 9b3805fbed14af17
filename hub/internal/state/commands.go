package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// CommandState is where a command is in its delivery.
type CommandState string

// Command states.
const (
	CommandPending CommandState = "pending"
	CommandAcked   CommandState = "acked"
)

// Command is one queued instruction to a host. Payload is opaque to the
// store (the stream layer's encoding).
type Command struct {
	HostID    string
	ID        string
	Seq       int64
	Kind      string
	Payload   []byte
	State     CommandState
	CreatedAt time.Time
	AckedAt   time.Time
}

// EnqueueCommand queues c for its host, after every earlier command of that
// host. Enqueueing an id the host already has is a no-op that returns the
// stored command, so callers may retry.
func (s *Store) EnqueueCommand(ctx context.Context, c Command) (Command, error) {
	var out Command
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := getHost(ctx, tx, c.HostID); err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM commands WHERE host_id = ?`, c.HostID).Scan(&seq); err != nil {
			return fmt.Errorf("next command seq: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO commands (host_id, id, seq, kind, payload, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id, id) DO NOTHING`,
			c.HostID, c.ID, seq, c.Kind, c.Payload, string(CommandPending), unix(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("enqueue command %s: %w", c.ID, err)
		}
		out, err = getCommand(ctx, tx, c.HostID, c.ID)
		return err
	})
	return out, err
}

// PendingCommands returns the host's unacknowledged commands in order.
func (s *Store) PendingCommands(ctx context.Context, hostID string) ([]Command, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT host_id, id, seq, kind, payload, state, created_at, acked_at
		FROM commands WHERE host_id = ? AND state = ? ORDER BY seq`, hostID, string(CommandPending))
	if err != nil {
		return nil, fmt.Errorf("pending commands of %s: %w", hostID, err)
	}
	defer rows.Close()
	var out []Command
	for rows.Next() {
		c, err := scanCommand(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AckCommand marks the host's command acknowledged. It reports whether this
// call changed it; acknowledging twice, or an id the host does not have, is
// not an error.
func (s *Store) AckCommand(ctx context.Context, hostID, id string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE commands SET state = ?, acked_at = ?
		WHERE host_id = ? AND id = ? AND state = ?`, string(CommandAcked), unix(now), hostID, id, string(CommandPending))
	if err != nil {
		return false, fmt.Errorf("ack command %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// GetCommand returns one command of a host.
func (s *Store) GetCommand(ctx context.Context, hostID, id string) (Command, error) {
	return getCommand(ctx, s.db, hostID, id)
}

func getCommand(ctx context.Context, q querier, hostID, id string) (Command, error) {
	c, err := scanCommand(q.QueryRowContext(ctx, `SELECT host_id, id, seq, kind, payload, state, created_at, acked_at
		FROM commands WHERE host_id = ? AND id = ?`, hostID, id))
	if err == sql.ErrNoRows {
		return Command{}, fmt.Errorf("command %q of host %q: %w", id, hostID, ErrNotFound)
	}
	return c, err
}

func scanCommand(sc scanner) (Command, error) {
	var c Command
	var state string
	var created, acked sql.NullInt64
	if err := sc.Scan(&c.HostID, &c.ID, &c.Seq, &c.Kind, &c.Payload, &state, &created, &acked); err != nil {
		if err == sql.ErrNoRows {
			return Command{}, err
		}
		return Command{}, fmt.Errorf("scan command: %w", err)
	}
	c.State, c.CreatedAt, c.AckedAt = CommandState(state), fromUnix(created), fromUnix(acked)
	return c, nil
}
