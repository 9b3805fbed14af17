package mem

import (
	"context"
	"io"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// CreatePageBlob implements storage.Store.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	const op = "create page blob"
	ctr, _, err := storage.SplitName(op, name)
	if err != nil {
		return err
	}
	return s.do(ctx, Call{Op: op, Name: name, N: size}, func() error {
		if size <= 0 || size%storage.PageSize != 0 {
			return s.violation(op, name, "size %d is not a positive multiple of 512", size)
		}
		if !s.containers[ctr] {
			return notFound(op, name, "ContainerNotFound")
		}
		if b := s.blobs[name]; b != nil {
			if b.kind == storage.KindPage && b.pg.size == size {
				return nil
			}
			return &storeerr.Error{Op: op, Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists}
		}
		s.blobs[name] = &blob{kind: storage.KindPage, pg: newPages(size), etag: s.tick()}
		return nil
	})
}

// pageTarget checks a page write's blob, range and condition; the lock is
// held.
func (s *Store) pageTarget(op, name string, off, n int64, cond storage.Cond) (*blob, error) {
	b, err := s.lookup(op, name)
	if err != nil {
		return nil, err
	}
	if b.kind != storage.KindPage {
		return nil, &storeerr.Error{Op: op, Name: name, Status: 409, Code: "InvalidBlobType", Class: storeerr.ErrExists}
	}
	if off+n > b.pg.size {
		return nil, s.violation(op, name, "range %d+%d past the end %d (416 InvalidPageRange)", off, n, b.pg.size)
	}
	if le, ok := cond.SequenceLE(); ok && b.seq > le {
		return nil, &storeerr.Error{Op: op, Name: name, Status: 412, Code: "SequenceNumberConditionNotMet", Class: storeerr.ErrConditionNotMet}
	}
	return b, nil
}

// PutPages implements storage.Store.
func (s *Store) PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, cond storage.Cond) error {
	const op = "put pages"
	if _, _, err := storage.SplitName(op, name); err != nil {
		return err
	}
	n := int64(len(data))
	return s.do(ctx, Call{Op: op, Name: name, Off: off, N: n}, func() error {
		if off < 0 || off%storage.PageSize != 0 || n%storage.PageSize != 0 || n == 0 {
			return s.violation(op, name, "range %d+%d is not 512-byte aligned", off, n)
		}
		if n > storage.MaxPutPage {
			return s.violation(op, name, "range of %d bytes is above 4 MiB", n)
		}
		b, err := s.pageTarget(op, name, off, n, cond)
		if err != nil {
			return err
		}
		if storage.CRC64(data) != crc {
			return &storeerr.Error{Op: op, Name: name, Status: 400, Code: "Crc64Mismatch", Class: storeerr.ErrChecksum}
		}
		b.pg.write(off, data, n)
		b.etag, s.puts = s.tick(), s.puts+1
		return nil
	})
}

// ClearPages implements storage.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64, cond storage.Cond) error {
	const op = "clear pages"
	if _, _, err := storage.SplitName(op, name); err != nil {
		return err
	}
	return s.do(ctx, Call{Op: op, Name: name, Off: off, N: n}, func() error {
		if off < 0 || off%storage.PageSize != 0 || n%storage.PageSize != 0 || n <= 0 {
			return s.violation(op, name, "range %d+%d is not 512-byte aligned", off, n)
		}
		b, err := s.pageTarget(op, name, off, n, cond)
		if err != nil {
			return err
		}
		b.pg.write(off, nil, n)
		b.etag = s.tick()
		return nil
	})
}

// SetSequenceNumber implements storage.Store ("max" action).
func (s *Store) SetSequenceNumber(ctx context.Context, name string, n int64) error {
	const op = "set sequence number"
	if n < 0 {
		return storeerr.Invalid(op, name, "sequence number %d is negative", n)
	}
	return s.do(ctx, Call{Op: op, Name: name, N: n}, func() error {
		b, err := s.lookup(op, name)
		if err != nil {
			return err
		}
		if b.kind != storage.KindPage {
			return &storeerr.Error{Op: op, Name: name, Status: 409, Code: "InvalidBlobType", Class: storeerr.ErrExists}
		}
		b.seq = max(b.seq, n)
		b.etag = s.tick()
		return nil
	})
}

// Upload implements storage.Store.
func (s *Store) Upload(ctx context.Context, name string, r io.Reader) error {
	const op = "upload"
	ctr, _, err := storage.SplitName(op, name)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return &storeerr.Error{Op: op, Name: name, Err: err}
	}
	return s.do(ctx, Call{Op: op, Name: name, N: int64(len(data))}, func() error {
		if !s.containers[ctr] {
			return notFound(op, name, "ContainerNotFound")
		}
		if s.blobs[name] != nil {
			return &storeerr.Error{Op: op, Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists}
		}
		pg := newPages(int64(len(data)))
		pg.write(0, data, int64(len(data)))
		s.blobs[name] = &blob{kind: storage.KindBlock, pg: pg, etag: s.tick()}
		return nil
	})
}
