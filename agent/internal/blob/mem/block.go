package mem

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

// StageBlock implements blob.Store.
func (s *Store) StageBlock(_ context.Context, name, id string, p blob.Payload) error {
	if err := s.check(blob.CheckName("stage block", name), blob.CheckBlockID(name, id)); err != nil {
		return err
	}
	if p.Size > blob.MaxStageBlock {
		return s.check(storeerr.Invalid("stage block", name, "block of %d bytes", p.Size))
	}
	data, err := readPayload("stage block", name, p)
	if err != nil {
		return s.check(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pages[name]; ok {
		return &storeerr.Error{Op: "stage block", Name: name, Status: 409, Code: "InvalidBlobType", Class: storeerr.ErrExists}
	}
	staged := s.staged[name]
	for other := range staged {
		if len(other) != len(id) {
			s.stats.Violations++
			return &storeerr.Error{Op: "stage block", Name: name, Status: 400, Code: "InvalidBlobOrBlock", Class: storeerr.ErrInvalid,
				Err: fmt.Errorf("block id length %d differs from %d", len(id), len(other))}
		}
		break
	}
	if staged == nil {
		staged = map[string][]byte{}
		s.staged[name] = staged
	}
	staged[id] = data
	s.stats.Bytes += p.Size
	return nil
}

// CommitBlocks implements blob.Store.
func (s *Store) CommitBlocks(_ context.Context, name string, ids []string) error {
	if err := s.check(blob.CheckName("commit blocks", name)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bb, ok := s.blocks[name]; ok {
		if slices.Equal(bb.ids, ids) {
			return nil
		}
		return &storeerr.Error{Op: "commit blocks", Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists,
			Err: fmt.Errorf("committed list of %d blocks differs", len(bb.ids))}
	}
	if _, ok := s.pages[name]; ok {
		return &storeerr.Error{Op: "commit blocks", Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists}
	}
	var data bytes.Buffer
	for _, id := range ids {
		b, ok := s.staged[name][id]
		if !ok {
			s.stats.Violations++
			return &storeerr.Error{Op: "commit blocks", Name: name, Status: 400, Code: "InvalidBlockList", Class: storeerr.ErrInvalid,
				Err: fmt.Errorf("block %q is not staged", id)}
		}
		data.Write(b)
	}
	s.blocks[name] = &blockBlob{ids: slices.Clone(ids), data: data.Bytes()}
	delete(s.staged, name)
	return nil
}

// Properties implements blob.Store.
func (s *Store) Properties(_ context.Context, name string) (blob.Properties, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pb, ok := s.pages[name]; ok {
		return blob.Properties{Kind: blob.KindPage, Size: pb.size, SequenceNumber: pb.seq}, nil
	}
	if bb, ok := s.blocks[name]; ok {
		return blob.Properties{Kind: blob.KindBlock, Size: int64(len(bb.data))}, nil
	}
	return blob.Properties{}, &storeerr.Error{Op: "get properties", Name: name, Status: 404, Code: "BlobNotFound", Class: storeerr.ErrNotFound}
}

// ReadBlob returns the whole content of a blob; unwritten pages read as zeros.
func (s *Store) ReadBlob(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bb, ok := s.blocks[name]; ok {
		return slices.Clone(bb.data), nil
	}
	pb, ok := s.pages[name]
	if !ok {
		return nil, &storeerr.Error{Op: "read", Name: name, Status: 404, Code: "BlobNotFound", Class: storeerr.ErrNotFound}
	}
	out := make([]byte, pb.size)
	for i, page := range pb.pages {
		copy(out[i*blob.PageSize:], page)
	}
	return out, nil
}
