// Package logging wraps a blob.Store and logs every request with hclog:
// operation, blob name (never a URL query), bytes, duration, attempt, for
// writes the offset and the body's CRC-64, and the redacted error. Successful requests log at debug level, failures at warn.
package logging

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

var _ blob.Store = (*Store)(nil)

// Store logs the requests of the Store it wraps.
type Store struct {
	next blob.Store
	log  hclog.Logger
}

// New wraps next; log is typically Named("blob").
func New(next blob.Store, log hclog.Logger) *Store {
	return &Store{next: next, log: log}
}

// record logs one finished request, with extra key-value pairs, and
// returns its error, redacted.
func (s *Store) record(ctx context.Context, op, name string, bytes int64, start time.Time, err error, extra ...any) error {
	err = storeerr.RedactError(err)
	args := append([]any{
		"op", op,
		"blob", storeerr.Redact(name),
		"bytes", bytes,
		"duration", time.Since(start),
		"attempt", blob.Attempt(ctx),
	}, extra...)
	if err != nil {
		s.log.Warn("storage request failed", append(args, "error", err)...)
		return err
	}
	s.log.Debug("storage request", args...)
	return nil
}

// CreatePageBlob implements blob.Store.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	start := time.Now()
	return s.record(ctx, "create page blob", name, 0, start, s.next.CreatePageBlob(ctx, name, size))
}

// WritePages implements blob.Store.
func (s *Store) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	start := time.Now()
	// The offset and the body's CRC-64 let a replica range read back later
	// be matched with the request that wrote it.
	return s.record(ctx, "write pages", name, p.Size, start, s.next.WritePages(ctx, name, off, p),
		"offset", off, "crc64", fmt.Sprintf("%016x", p.CRC64))
}

// ClearPages implements blob.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64) error {
	start := time.Now()
	return s.record(ctx, "clear pages", name, 0, start, s.next.ClearPages(ctx, name, off, n))
}

// StageBlock implements blob.Store.
func (s *Store) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	start := time.Now()
	return s.record(ctx, "stage block", name, p.Size, start, s.next.StageBlock(ctx, name, id, p),
		"crc64", fmt.Sprintf("%016x", p.CRC64))
}

// CommitBlocks implements blob.Store.
func (s *Store) CommitBlocks(ctx context.Context, name string, ids []string) error {
	start := time.Now()
	return s.record(ctx, "commit blocks", name, 0, start, s.next.CommitBlocks(ctx, name, ids))
}

// Properties implements blob.Store.
func (s *Store) Properties(ctx context.Context, name string) (blob.Properties, error) {
	start := time.Now()
	p, err := s.next.Properties(ctx, name)
	return p, s.record(ctx, "get properties", name, 0, start, err)
}
