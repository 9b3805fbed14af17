package mem

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// source returns the bytes and sequence number of a blob or snapshot; the
// lock is held.
func (s *Store) source(op, name, snapshot string) (*blob, *snap, error) {
	b, err := s.lookup(op, name)
	if err != nil || snapshot == "" {
		return b, nil, err
	}
	for _, sn := range b.snaps {
		if sn.id == snapshot {
			return b, sn, nil
		}
	}
	return nil, nil, notFound(op, name, "BlobNotFound")
}

// Properties implements storage.Store.
func (s *Store) Properties(ctx context.Context, name, snapshot string) (storage.Properties, error) {
	const op = "get properties"
	var p storage.Properties
	err := s.do(ctx, Call{Op: op, Name: name}, func() error {
		b, sn, err := s.source(op, name, snapshot)
		if err != nil {
			return err
		}
		p = storage.Properties{Kind: b.kind, Size: b.pg.size, SequenceNumber: b.seq, ETag: fmt.Sprint(b.etag)}
		if sn != nil {
			p.Size, p.SequenceNumber, p.Metadata = sn.pg.size, sn.seq, maps.Clone(sn.meta)
		}
		return nil
	})
	return p, err
}

// ReadAt implements storage.Store.
func (s *Store) ReadAt(ctx context.Context, name, snapshot string, p []byte, off int64) (int, error) {
	const op = "read"
	var n int
	var eof bool
	err := s.do(ctx, Call{Op: op, Name: name, Off: off, N: int64(len(p))}, func() error {
		b, sn, err := s.source(op, name, snapshot)
		if err != nil {
			return err
		}
		pg := b.pg
		if sn != nil {
			pg = sn.pg
		}
		if off < 0 {
			return storeerr.Invalid(op, name, "negative offset %d", off)
		}
		n = pg.read(p, off)
		eof = n < len(p)
		return nil
	})
	if err == nil && eof {
		err = io.EOF
	}
	return n, err
}

// OpenRange implements storage.Store.
func (s *Store) OpenRange(ctx context.Context, name, snapshot string, off, n int64) (io.ReadCloser, error) {
	const op = "read"
	if off < 0 || n <= 0 {
		return nil, storeerr.Invalid(op, name, "range %d+%d", off, n)
	}
	var buf []byte
	err := s.do(ctx, Call{Op: op, Name: name, Off: off, N: n}, func() error {
		b, sn, err := s.source(op, name, snapshot)
		if err != nil {
			return err
		}
		pg := b.pg
		if sn != nil {
			pg = sn.pg
		}
		buf = make([]byte, max(0, min(n, pg.size-off)))
		pg.read(buf, off)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(buf)), nil
}

// Bytes returns a copy of a blob's or snapshot's contents, for tests.
func (s *Store) Bytes(name, snapshot string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, sn, err := s.source("bytes", name, snapshot)
	if err != nil {
		return nil, err
	}
	if sn != nil {
		return sn.pg.bytes(), nil
	}
	return b.pg.bytes(), nil
}
