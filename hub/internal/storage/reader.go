package storage

import (
	"context"
	"io"
)

// Object is one blob (or snapshot) seen as an io.ReaderAt of known size, for
// readers such as the delta format's that take one.
type Object struct {
	ctx      context.Context
	store    Store
	name     string
	snapshot string
	size     int64
}

var _ io.ReaderAt = (*Object)(nil)

// Open reads the properties of a blob or snapshot and returns it as an
// Object whose reads use ctx.
func Open(ctx context.Context, s Store, name, snapshot string) (*Object, error) {
	p, err := s.Properties(ctx, name, snapshot)
	if err != nil {
		return nil, err
	}
	return &Object{ctx: ctx, store: s, name: name, snapshot: snapshot, size: p.Size}, nil
}

// Size returns the object's size when it was opened.
func (o *Object) Size() int64 { return o.size }

// ReadAt implements io.ReaderAt.
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	return o.store.ReadAt(o.ctx, o.name, o.snapshot, p, off)
}
