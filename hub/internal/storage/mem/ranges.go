package mem

import (
	"context"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// PageRanges implements storage.Store. The fake tracks every page, so the
// listing is exact: written pages (zeros included) and not cleared ones.
func (s *Store) PageRanges(ctx context.Context, name, snapshot string, off, n int64, limit int) ([]storage.Range, int64, error) {
	const op = "get page ranges"
	if err := storage.CheckPageRanges(op, name, off, n, limit); err != nil {
		return nil, 0, err
	}
	var out []storage.Range
	var next int64
	err := s.do(ctx, Call{Op: op, Name: name, Off: off, N: n}, func() error {
		b, sn, err := s.source(op, name, snapshot)
		if err != nil {
			return err
		}
		if b.kind != storage.KindPage {
			return &storeerr.Error{Op: op, Name: name, Status: 409, Code: "InvalidBlobType", Class: storeerr.ErrExists}
		}
		pg := b.pg
		if sn != nil {
			pg = sn.pg
		}
		if off+n > pg.size {
			return s.violation(op, name, "window %d+%d past the end %d (416 InvalidPageRange)", off, n, pg.size)
		}
		out, next = pg.ranges(off, off+n, limit)
		return nil
	})
	return out, next, err
}
