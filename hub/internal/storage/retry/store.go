package retry

import (
	"context"
	"io"

	"hvmigrate/hub/internal/storage"
)

var _ storage.Store = (*Store)(nil)

// Store retries the operations of the Store it wraps.
type Store struct {
	next storage.Store
	p    policy
}

// New wraps next. Zero fields of cfg take their defaults.
func New(next storage.Store, cfg Config) *Store {
	return &Store{next: next, p: policy{cfg: withDefaults(cfg)}}
}

// Properties implements storage.Store.
func (s *Store) Properties(ctx context.Context, name, snapshot string) (p storage.Properties, err error) {
	err = s.p.do(ctx, "get properties", func() error {
		p, err = s.next.Properties(ctx, name, snapshot)
		return err
	})
	return p, err
}

// ReadAt implements storage.Store.
func (s *Store) ReadAt(ctx context.Context, name, snapshot string, b []byte, off int64) (n int, err error) {
	err = s.p.do(ctx, "read", func() error {
		n, err = s.next.ReadAt(ctx, name, snapshot, b, off)
		return err
	})
	return n, err
}

// OpenRange implements storage.Store; only opening is retried.
func (s *Store) OpenRange(ctx context.Context, name, snapshot string, off, n int64) (rc io.ReadCloser, err error) {
	err = s.p.do(ctx, "read", func() error {
		rc, err = s.next.OpenRange(ctx, name, snapshot, off, n)
		return err
	})
	return rc, err
}

// Upload implements storage.Store; it is not retried when r cannot seek
// back to the start.
func (s *Store) Upload(ctx context.Context, name string, r io.Reader) error {
	seeker, ok := r.(io.Seeker)
	if !ok {
		return s.next.Upload(ctx, name, r)
	}
	first := true
	return s.p.do(ctx, "upload", func() error {
		if !first {
			if _, err := seeker.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
		first = false
		return s.next.Upload(ctx, name, r)
	})
}

// CreatePageBlob implements storage.Store.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	return s.p.do(ctx, "create page blob", func() error { return s.next.CreatePageBlob(ctx, name, size) })
}

// PutPages implements storage.Store.
func (s *Store) PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, cond storage.Cond) error {
	return s.p.do(ctx, "put pages", func() error { return s.next.PutPages(ctx, name, off, data, crc, cond) })
}

// ClearPages implements storage.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64, cond storage.Cond) error {
	return s.p.do(ctx, "clear pages", func() error { return s.next.ClearPages(ctx, name, off, n, cond) })
}

// SetSequenceNumber implements storage.Store.
func (s *Store) SetSequenceNumber(ctx context.Context, name string, n int64) error {
	return s.p.do(ctx, "set sequence number", func() error { return s.next.SetSequenceNumber(ctx, name, n) })
}

// CreateSnapshot implements storage.Store.
func (s *Store) CreateSnapshot(ctx context.Context, name string, meta map[string]string) (id string, err error) {
	err = s.p.do(ctx, "create snapshot", func() error {
		id, err = s.next.CreateSnapshot(ctx, name, meta)
		return err
	})
	return id, err
}

// ListSnapshots implements storage.Store.
func (s *Store) ListSnapshots(ctx context.Context, name string) (out []storage.Snapshot, err error) {
	err = s.p.do(ctx, "list snapshots", func() error {
		out, err = s.next.ListSnapshots(ctx, name)
		return err
	})
	return out, err
}

// DeleteSnapshot implements storage.Store.
func (s *Store) DeleteSnapshot(ctx context.Context, name, snapshot string) error {
	return s.p.do(ctx, "delete snapshot", func() error { return s.next.DeleteSnapshot(ctx, name, snapshot) })
}

// CopySnapshot implements storage.Store.
func (s *Store) CopySnapshot(ctx context.Context, name, snapshot, dst string) error {
	return s.p.do(ctx, "copy snapshot", func() error { return s.next.CopySnapshot(ctx, name, snapshot, dst) })
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) (out []storage.BlobInfo, err error) {
	err = s.p.do(ctx, "list", func() error {
		out, err = s.next.List(ctx, prefix)
		return err
	})
	return out, err
}

// PageRanges implements storage.Store.
func (s *Store) PageRanges(ctx context.Context, name, snapshot string, off, n int64, limit int) (out []storage.Range, next int64, err error) {
	err = s.p.do(ctx, "get page ranges", func() error {
		out, next, err = s.next.PageRanges(ctx, name, snapshot, off, n, limit)
		return err
	})
	return out, next, err
}
