// Package mem is an in-memory storage.Store for tests. It plays the
// service's part strictly: it refuses (and reports through OnViolation)
// every Put Page that is longer than 4 MiB or not 512-byte aligned, checks
// the transactional CRC-64, refuses writes past the end of a page blob, and
// enforces sequence-number conditions. It tracks which pages are valid
// (written and not cleared since), so page range listings are exact.
// Hooks let tests fail any request before or after it takes effect, to
// simulate crashes and lost answers.
package mem

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

var _ storage.Store = (*Store)(nil)

// Call describes one request, for hooks.
type Call struct {
	Op   string // "put pages", "clear pages", "set sequence number", ...
	Name string
	Off  int64
	N    int64
}

// Config tunes the fake.
type Config struct {
	// OnViolation is called with a description of every request a real
	// service would refuse for its shape (size, alignment, range). Tests
	// pass t.Errorf-like functions; nil ignores them (they still fail).
	OnViolation func(msg string)
	// Before, when set, runs before every request; a non-nil error is
	// returned instead of doing it.
	Before func(Call) error
	// After, when set, runs after every request that succeeded; a non-nil
	// error is returned although the request took effect (a lost answer).
	After func(Call) error
}

// Store is the fake.
type Store struct {
	cfg        Config
	mu         sync.Mutex
	containers map[string]bool
	blobs      map[string]*blob
	clock      int64 // snapshot ids and etags
	puts       int64
}

// blob is one blob and its snapshots.
type blob struct {
	kind  storage.Kind
	pg    *pages
	seq   int64
	etag  int64
	snaps []*snap
}

// snap is one snapshot.
type snap struct {
	id   string
	pg   *pages
	seq  int64
	meta map[string]string
}

// New returns an empty fake.
func New(cfg Config) *Store {
	return &Store{cfg: cfg, containers: map[string]bool{}, blobs: map[string]*blob{}}
}

// CreateContainer creates a container; blobs live only in containers.
func (s *Store) CreateContainer(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.containers[name] = true
}

// PutCount returns how many Put Page requests succeeded.
func (s *Store) PutCount() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.puts
}

// violation reports a request the service would refuse and returns its
// error.
func (s *Store) violation(op, name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if s.cfg.OnViolation != nil {
		s.cfg.OnViolation(fmt.Sprintf("%s %s: %s", op, name, msg))
	}
	return storeerr.Invalid(op, name, "%s", msg)
}

// do runs fn under the lock between the hooks.
func (s *Store) do(ctx context.Context, c Call, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return &storeerr.Error{Op: c.Op, Name: c.Name, Err: err}
	}
	if s.cfg.Before != nil {
		if err := s.cfg.Before(c); err != nil {
			return err
		}
	}
	s.mu.Lock()
	err := fn()
	s.mu.Unlock()
	if err == nil && s.cfg.After != nil {
		return s.cfg.After(c)
	}
	return err
}

// lookup returns a blob after checking the name; the lock is held.
func (s *Store) lookup(op, name string) (*blob, error) {
	ctr, _, err := storage.SplitName(op, name)
	if err != nil {
		return nil, err
	}
	if !s.containers[ctr] {
		return nil, notFound(op, name, "ContainerNotFound")
	}
	b := s.blobs[name]
	if b == nil {
		return nil, notFound(op, name, "BlobNotFound")
	}
	return b, nil
}

// notFound returns a 404.
func notFound(op, name, code string) error {
	return &storeerr.Error{Op: op, Name: name, Status: 404, Code: code, Class: storeerr.ErrNotFound}
}

// tick advances the fake's clock; the lock is held.
func (s *Store) tick() int64 {
	s.clock++
	return s.clock
}

// snapshotID turns a tick into a sortable snapshot timestamp.
func snapshotID(t int64) string {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return base.Add(time.Duration(t) * time.Microsecond).Format("2006-01-02T15:04:05.0000000Z")
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.BlobInfo, error) {
	const op = "list"
	ctr, _, err := storage.SplitPrefix(op, prefix)
	if err != nil {
		return nil, err
	}
	var out []storage.BlobInfo
	err = s.do(ctx, Call{Op: op, Name: prefix}, func() error {
		if !s.containers[ctr] {
			return notFound(op, prefix, "ContainerNotFound")
		}
		for name, b := range s.blobs {
			if strings.HasPrefix(name, prefix) {
				out = append(out, storage.BlobInfo{Name: name, Kind: b.kind, Size: b.pg.size})
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
