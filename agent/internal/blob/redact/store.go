package redact

import (
	"context"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

var _ blob.Store = (*Store)(nil)

// Store redacts every error of the Store it wraps.
type Store struct {
	next blob.Store
}

// New wraps next.
func New(next blob.Store) *Store {
	return &Store{next: next}
}

// CreatePageBlob implements blob.Store.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	return storeerr.RedactError(s.next.CreatePageBlob(ctx, name, size))
}

// WritePages implements blob.Store.
func (s *Store) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	return storeerr.RedactError(s.next.WritePages(ctx, name, off, p))
}

// ClearPages implements blob.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64) error {
	return storeerr.RedactError(s.next.ClearPages(ctx, name, off, n))
}

// StageBlock implements blob.Store.
func (s *Store) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	return storeerr.RedactError(s.next.StageBlock(ctx, name, id, p))
}

// CommitBlocks implements blob.Store.
func (s *Store) CommitBlocks(ctx context.Context, name string, ids []string) error {
	return storeerr.RedactError(s.next.CommitBlocks(ctx, name, ids))
}

// Properties implements blob.Store.
func (s *Store) Properties(ctx context.Context, name string) (blob.Properties, error) {
	p, err := s.next.Properties(ctx, name)
	return p, storeerr.RedactError(err)
}
