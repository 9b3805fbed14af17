// Package jobstore keeps the agent's durable state in one bbolt file: the
// transfer jobs it knows, each job's journal of acknowledged work (so a
// restarted agent resumes instead of starting over), and host settings such
// as the throttle schedule. Every write is committed (fsynced) before the
// call returns.
//
// Job parameters include SAS URLs. They are secrets at rest: the file is
// created with mode 0600 in a directory of mode 0700, and SAS tokens expire
// within hours.
package jobstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotFound means no job has the id.
var ErrNotFound = errors.New("job not found")

var (
	bucketJobs     = []byte("jobs")
	bucketJournals = []byte("journals")
	bucketSettings = []byte("settings")
)

// Store is the agent's state file.
type Store struct {
	db *bolt.DB
}

// Open opens or creates the state file at path.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketJobs, bucketJournals, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise state %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Job is the durable record of a transfer job. Params holds the
// kind-specific request, Progress the last counters saved.
type Job struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	VMID     string          `json:"vm_id"`
	Cycle    uint64          `json:"cycle,omitempty"`
	State    string          `json:"state"`
	Error    string          `json:"error,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Params   json.RawMessage `json:"params"`
	Progress json.RawMessage `json:"progress,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
}

// PutJob creates or replaces a job record.
func (s *Store) PutJob(j Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).Put([]byte(j.ID), b)
	})
}

// Job returns the record of job id, or ErrNotFound.
func (s *Store) Job(id string) (Job, error) {
	var j Job
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs).Get([]byte(id))
		if b == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return json.Unmarshal(b, &j)
	})
	return j, err
}

// Jobs returns every job record in id order.
func (s *Store) Jobs() ([]Job, error) {
	var jobs []Job
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("decode job %s: %w", k, err)
			}
			jobs = append(jobs, j)
			return nil
		})
	})
	return jobs, err
}

// DeleteJob removes a job and its journal.
func (s *Store) DeleteJob(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketJobs).Delete([]byte(id)); err != nil {
			return err
		}
		err := tx.Bucket(bucketJournals).DeleteBucket([]byte(id))
		if errors.Is(err, bolt.ErrBucketNotFound) {
			return nil
		}
		return err
	})
}

// GetSetting decodes the JSON setting name into v; found is false when it
// was never set.
func (s *Store) GetSetting(name string, v any) (found bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings).Get([]byte(name))
		if b == nil {
			return nil
		}
		found = true
		return json.Unmarshal(b, v)
	})
	return found, err
}

// PutSetting stores v as the JSON setting name.
func (s *Store) PutSetting(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode setting %s: %w", name, err)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Put([]byte(name), b)
	})
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
