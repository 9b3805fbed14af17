// Package limit wraps a blob.Store so that upload bodies flow no faster
// than a rate limiter allows. The body is paced chunk by chunk as the HTTP
// stack reads it, so a 4 MiB Put Page at 512 Kbps trickles out over about a
// minute instead of bursting; the first chunk is waited for before the
// request starts. A retried request reads its body again and is charged
// again, since those bytes cross the link again.
package limit

import (
	"context"
	"io"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

var _ blob.Store = (*Store)(nil)

// Limiter hands out byte allowances; the host-wide throttle implements it
// (one per VM, so the host's bandwidth is shared between VMs).
type Limiter interface {
	// Wait blocks until n bytes may be sent or ctx ends. n is at most the
	// chunk size the Store was configured with.
	Wait(ctx context.Context, n int) error
}

// Config tunes the pacing.
type Config struct {
	// Chunk is the most bytes released per wait.
	Chunk int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Chunk: 32 << 10}
}

// Store paces the bodies of the Store it wraps.
type Store struct {
	next  blob.Store
	lim   Limiter
	chunk int
}

// New wraps next.
func New(next blob.Store, lim Limiter, cfg Config) *Store {
	if cfg.Chunk <= 0 {
		cfg.Chunk = DefaultConfig().Chunk
	}
	return &Store{next: next, lim: lim, chunk: cfg.Chunk}
}

// pace waits for the first chunk and returns the payload with a paced body.
func (s *Store) pace(ctx context.Context, p blob.Payload) (blob.Payload, error) {
	first := int(min(int64(s.chunk), p.Size))
	if first > 0 {
		if err := s.lim.Wait(ctx, first); err != nil {
			return p, err
		}
	}
	p.Body = &reader{ctx: ctx, r: p.Body, lim: s.lim, chunk: s.chunk, credit: first}
	return p, nil
}

// WritePages implements blob.Store.
func (s *Store) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	p, err := s.pace(ctx, p)
	if err != nil {
		return &storeerr.Error{Op: "write pages", Name: name, Err: err}
	}
	return s.next.WritePages(ctx, name, off, p)
}

// StageBlock implements blob.Store.
func (s *Store) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	p, err := s.pace(ctx, p)
	if err != nil {
		return &storeerr.Error{Op: "stage block", Name: name, Err: err}
	}
	return s.next.StageBlock(ctx, name, id, p)
}

// CreatePageBlob implements blob.Store; it sends no body.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	return s.next.CreatePageBlob(ctx, name, size)
}

// ClearPages implements blob.Store; it sends no body.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64) error {
	return s.next.ClearPages(ctx, name, off, n)
}

// CommitBlocks implements blob.Store; its small body is not paced.
func (s *Store) CommitBlocks(ctx context.Context, name string, ids []string) error {
	return s.next.CommitBlocks(ctx, name, ids)
}

// Properties implements blob.Store.
func (s *Store) Properties(ctx context.Context, name string) (blob.Properties, error) {
	return s.next.Properties(ctx, name)
}

// reader releases at most chunk bytes per limiter wait.
type reader struct {
	ctx    context.Context
	r      io.ReadSeeker
	lim    Limiter
	chunk  int
	credit int // bytes already paid for
}

func (r *reader) Read(p []byte) (int, error) {
	if len(p) > r.chunk {
		p = p[:r.chunk]
	}
	if r.credit == 0 {
		if err := r.lim.Wait(r.ctx, len(p)); err != nil {
			return 0, err
		}
		r.credit = len(p)
	}
	if len(p) > r.credit {
		p = p[:r.credit]
	}
	n, err := r.r.Read(p)
	r.credit -= n
	return n, err
}

func (r *reader) Seek(off int64, whence int) (int64, error) {
	return r.r.Seek(off, whence)
}
