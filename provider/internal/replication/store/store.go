// Package store keeps the provider's replication state of every VM in an
// embedded bbolt file. Every Put is one fsynced transaction: once it
// returns, the state survives a crash of the provider or the host.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hvmigrate/provider/internal/replication"
)

var (
	// ErrStaleWrite means a state older than the stored one was written:
	// a bug in the caller, refused so the store never goes back in time.
	ErrStaleWrite = errors.New("state older than the stored one")
	// ErrCorrupt means a stored record does not decode.
	ErrCorrupt = errors.New("stored state is corrupt")
)

var bucketVMs = []byte("vms")

// Config says where the file is and how long to wait for its lock.
type Config struct {
	Path        string
	LockTimeout time.Duration
	ReadOnly    bool
	// NoSync skips fsync: only for tests that simulate restarts by
	// closing the file, never for a provider.
	NoSync bool
}

// DefaultConfig holds every default of a store at path.
func DefaultConfig(path string) Config {
	return Config{Path: path, LockTimeout: 2 * time.Second}
}

// Store is the state file.
type Store struct {
	db *bolt.DB
}

// Open opens (or creates) the state file.
func Open(cfg Config) (*Store, error) {
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: cfg.LockTimeout, ReadOnly: cfg.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("open state store %s: %w", cfg.Path, err)
	}
	db.NoSync = cfg.NoSync
	if cfg.ReadOnly {
		return &Store{db: db}, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketVMs)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare state store %s: %w", cfg.Path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Put stores a VM's state durably. It refuses a state whose Seq is below
// the stored one's.
func (s *Store) Put(st replication.State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state of vm %s: %w", st.VMID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketVMs)
		if old := bk.Get([]byte(st.VMID)); old != nil {
			prev, err := decode(st.VMID, old)
			if err != nil {
				return err
			}
			if st.Seq < prev.Seq {
				return fmt.Errorf("%w: vm %s at seq %d, stored %d", ErrStaleWrite, st.VMID, st.Seq, prev.Seq)
			}
		}
		return bk.Put([]byte(st.VMID), b)
	})
	if err != nil {
		return fmt.Errorf("store state of vm %s: %w", st.VMID, err)
	}
	return nil
}

// Get returns one VM's state; ok is false when none is stored.
func (s *Store) Get(vmID string) (st replication.State, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		bk := bucket(tx)
		if bk == nil {
			return nil
		}
		b := bk.Get([]byte(vmID))
		if b == nil {
			return nil
		}
		ok = true
		st, err = decode(vmID, b)
		return err
	})
	return st, ok, err
}

// List returns every stored state, ordered by VM id.
func (s *Store) List() ([]replication.State, error) {
	var out []replication.State
	err := s.db.View(func(tx *bolt.Tx) error {
		bk := bucket(tx)
		if bk == nil {
			return nil
		}
		return bk.ForEach(func(k, v []byte) error {
			st, err := decode(string(k), v)
			if err == nil {
				out = append(out, st)
			}
			return err
		})
	})
	return out, err
}

func bucket(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketVMs) }

func decode(vmID string, b []byte) (replication.State, error) {
	var st replication.State
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%w: vm %s: %w", ErrCorrupt, vmID, err)
	}
	if st.VMID != vmID {
		return st, fmt.Errorf("%w: record of vm %s names vm %q", ErrCorrupt, vmID, st.VMID)
	}
	return st, nil
}
