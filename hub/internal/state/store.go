// Package state is the hub's durable state in an embedded SQLite database
// behind database/sql: projects, registration keys, hosts, the per-host
// command queue, events and the VM inventory. Every multi-step change runs
// in one transaction. The schema comes from the numbered SQL files under
// migrations/, applied in order, each in its own transaction, and recorded
// in schema_migrations.
//
// The SQL is portable apart from what Open sets through the driver (WAL,
// busy timeout, foreign keys, immediate transactions) and the "?"
// placeholders, which PostgreSQL would spell $1, $2, ...
package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

// Sentinel errors of the store.
var (
	// ErrNotFound means the named row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a row with that unique name or id already exists.
	ErrExists = errors.New("already exists")
	// ErrForbidden means a host touched something that is not its own.
	ErrForbidden = errors.New("not this host's")
)

// Config says where the database is and how long to wait for a lock.
type Config struct {
	Path        string
	BusyTimeout time.Duration
}

// DefaultConfig returns the defaults for a database at path.
func DefaultConfig(path string) Config {
	return Config{Path: path, BusyTimeout: 10 * time.Second}
}

// Store is the hub's state. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// Open opens (creating if needed) the database and applies pending
// migrations.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	db, err := sql.Open("sqlite", dsn(cfg))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Path, err)
	}
	db.SetMaxOpenConns(8)
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", cfg.Path, err)
	}
	return s, nil
}

// dsn holds the SQLite-only settings: write-ahead log, busy timeout,
// foreign keys, and BEGIN IMMEDIATE so that concurrent writers queue on the
// busy timeout instead of failing when a read lock cannot be upgraded.
func dsn(cfg Config) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	return "file:" + cfg.Path + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// inTx runs fn in one transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// unix converts a time to the stored form; the zero time is stored as 0.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// fromUnix converts a stored time back; NULL and 0 give the zero time.
func fromUnix(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.Unix(v.Int64, 0).UTC()
}
