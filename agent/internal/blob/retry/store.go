package retry

import (
	"context"

	"hvmigrate/agent/internal/blob"
)

// CreatePageBlob implements blob.Store.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	return s.do(ctx, "create page blob", name, func(ctx context.Context) error {
		return s.next.CreatePageBlob(ctx, name, size)
	})
}

// WritePages implements blob.Store.
func (s *Store) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	return s.do(ctx, "write pages", name, func(ctx context.Context) error {
		return s.next.WritePages(ctx, name, off, p)
	})
}

// ClearPages implements blob.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64) error {
	return s.do(ctx, "clear pages", name, func(ctx context.Context) error {
		return s.next.ClearPages(ctx, name, off, n)
	})
}

// StageBlock implements blob.Store.
func (s *Store) StageBlock(ctx context.Context, name, id string, p blob.Payload) error {
	return s.do(ctx, "stage block", name, func(ctx context.Context) error {
		return s.next.StageBlock(ctx, name, id, p)
	})
}

// CommitBlocks implements blob.Store.
func (s *Store) CommitBlocks(ctx context.Context, name string, ids []string) error {
	return s.do(ctx, "commit blocks", name, func(ctx context.Context) error {
		return s.next.CommitBlocks(ctx, name, ids)
	})
}

// Properties implements blob.Store.
func (s *Store) Properties(ctx context.Context, name string) (blob.Properties, error) {
	var p blob.Properties
	err := s.do(ctx, "get properties", name, func(ctx context.Context) error {
		var err error
		p, err = s.next.Properties(ctx, name)
		return err
	})
	return p, err
}
