package mem

import (
	"context"
	"maps"
	"slices"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// CreateSnapshot implements storage.Store.
func (s *Store) CreateSnapshot(ctx context.Context, name string, meta map[string]string) (string, error) {
	const op = "create snapshot"
	var id string
	err := s.do(ctx, Call{Op: op, Name: name}, func() error {
		b, err := s.lookup(op, name)
		if err != nil {
			return err
		}
		id = snapshotID(s.tick())
		b.snaps = append(b.snaps, &snap{id: id, pg: b.pg.clone(), seq: b.seq, meta: maps.Clone(meta)})
		return nil
	})
	return id, err
}

// ListSnapshots implements storage.Store.
func (s *Store) ListSnapshots(ctx context.Context, name string) ([]storage.Snapshot, error) {
	const op = "list snapshots"
	var out []storage.Snapshot
	err := s.do(ctx, Call{Op: op, Name: name}, func() error {
		b, err := s.lookup(op, name)
		if err != nil {
			if storageNotFound(err) {
				return nil // a listing of nothing, as the service gives
			}
			return err
		}
		for _, sn := range b.snaps {
			out = append(out, storage.Snapshot{ID: sn.id, Metadata: maps.Clone(sn.meta)})
		}
		return nil
	})
	return out, err
}

// storageNotFound reports a 404 for a missing blob (not container).
func storageNotFound(err error) bool {
	e, ok := err.(*storeerr.Error)
	return ok && e.Code == "BlobNotFound"
}

// DeleteSnapshot implements storage.Store.
func (s *Store) DeleteSnapshot(ctx context.Context, name, snapshot string) error {
	const op = "delete snapshot"
	if snapshot == "" {
		return storeerr.Invalid(op, name, "no snapshot id: refusing to delete the base blob")
	}
	return s.do(ctx, Call{Op: op, Name: name}, func() error {
		b, err := s.lookup(op, name)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(b.snaps, func(sn *snap) bool { return sn.id == snapshot })
		if i < 0 {
			return notFound(op, name, "BlobNotFound")
		}
		b.snaps = slices.Delete(b.snaps, i, i+1)
		return nil
	})
}

// CopySnapshot implements storage.Store.
func (s *Store) CopySnapshot(ctx context.Context, name, snapshot, dst string) error {
	const op = "copy snapshot"
	ctr, _, err := storage.SplitName(op, dst)
	if err != nil {
		return err
	}
	return s.do(ctx, Call{Op: op, Name: dst}, func() error {
		b, sn, err := s.source(op, name, snapshot)
		if err != nil {
			return err
		}
		if !s.containers[ctr] {
			return notFound(op, dst, "ContainerNotFound")
		}
		if s.blobs[dst] != nil {
			return &storeerr.Error{Op: op, Name: dst, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists}
		}
		pg, seq := b.pg, b.seq
		if sn != nil {
			pg, seq = sn.pg, sn.seq
		}
		s.blobs[dst] = &blob{kind: b.kind, pg: pg.clone(), seq: seq, etag: s.tick()}
		return nil
	})
}
