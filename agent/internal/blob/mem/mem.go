// Package mem is an in-memory blob.Store for fast, deterministic tests. It
// keeps page blobs as 512-byte pages and block blobs as staged and committed
// blocks, checks every request the way the service does (alignment, the
// 4 MiB Put Page limit, CRC-64), and counts requests so tests can assert on
// them. A request the service would refuse is refused and also recorded as a
// violation.
package mem

import (
	"context"
	"fmt"
	"io"
	"sync"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

var _ blob.Store = (*Store)(nil)

// Stats counts the requests a Store served.
type Stats struct {
	PutPages   int   // successful Put Page calls
	MaxPutPage int64 // largest Put Page body
	Bytes      int64 // bytes accepted by Put Page and Stage Block
	Violations int   // requests refused as malformed
}

// Store is an in-memory blob container. The zero value is not usable; call New.
type Store struct {
	mu     sync.Mutex
	pages  map[string]*pageBlob
	blocks map[string]*blockBlob
	staged map[string]map[string][]byte // blob name -> block id -> data
	stats  Stats
}

type pageBlob struct {
	size  int64
	seq   int64
	pages map[int64][]byte // page index -> PageSize bytes
}

type blockBlob struct {
	ids  []string
	data []byte
}

// New returns an empty store.
func New() *Store {
	return &Store{
		pages:  map[string]*pageBlob{},
		blocks: map[string]*blockBlob{},
		staged: map[string]map[string][]byte{},
	}
}

// Stats returns the request counters.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// CreatePageBlob implements blob.Store.
func (s *Store) CreatePageBlob(_ context.Context, name string, size int64) error {
	if err := s.check(blob.CheckName("create page blob", name), blob.CheckPageBlobSize(name, size)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pb, ok := s.pages[name]; ok {
		if pb.size == size {
			return nil
		}
		return &storeerr.Error{Op: "create page blob", Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists,
			Err: fmt.Errorf("page blob has size %d, want %d", pb.size, size)}
	}
	if _, ok := s.blocks[name]; ok {
		return &storeerr.Error{Op: "create page blob", Name: name, Status: 409, Code: "BlobAlreadyExists", Class: storeerr.ErrExists}
	}
	s.pages[name] = &pageBlob{size: size, pages: map[int64][]byte{}}
	return nil
}

// WritePages implements blob.Store.
func (s *Store) WritePages(_ context.Context, name string, off int64, p blob.Payload) error {
	if err := s.check(blob.CheckPageWrite(name, off, p.Size)); err != nil {
		return err
	}
	data, err := readPayload("write pages", name, p)
	if err != nil {
		return s.check(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pb, err := s.pageBlob("write pages", name, off, p.Size)
	if err != nil {
		return err
	}
	for i := int64(0); i < p.Size; i += blob.PageSize {
		pb.pages[(off+i)/blob.PageSize] = data[i : i+blob.PageSize : i+blob.PageSize]
	}
	s.stats.PutPages++
	s.stats.Bytes += p.Size
	s.stats.MaxPutPage = max(s.stats.MaxPutPage, p.Size)
	return nil
}

// ClearPages implements blob.Store.
func (s *Store) ClearPages(_ context.Context, name string, off, n int64) error {
	if err := s.check(blob.CheckClear(name, off, n)); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pb, err := s.pageBlob("clear pages", name, off, n)
	if err != nil {
		return err
	}
	for i := off / blob.PageSize; i < (off+n)/blob.PageSize; i++ {
		delete(pb.pages, i)
	}
	return nil
}

// pageBlob returns the named page blob if [off, off+n) lies inside it.
// The caller holds s.mu.
func (s *Store) pageBlob(op, name string, off, n int64) (*pageBlob, error) {
	pb, ok := s.pages[name]
	if !ok {
		return nil, &storeerr.Error{Op: op, Name: name, Status: 404, Code: "BlobNotFound", Class: storeerr.ErrNotFound}
	}
	if off+n > pb.size {
		s.stats.Violations++
		return nil, &storeerr.Error{Op: op, Name: name, Status: 416, Code: "InvalidPageRange", Class: storeerr.ErrInvalid,
			Err: fmt.Errorf("range %d+%d beyond size %d", off, n, pb.size)}
	}
	return pb, nil
}

// SetSequenceNumber sets a page blob's sequence number, as the hub does.
func (s *Store) SetSequenceNumber(name string, seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pb, ok := s.pages[name]
	if !ok {
		return &storeerr.Error{Op: "set sequence number", Name: name, Status: 404, Class: storeerr.ErrNotFound}
	}
	pb.seq = seq
	return nil
}

// check records a violation when err is an ErrInvalid and returns the first
// non-nil error.
func (s *Store) check(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			s.mu.Lock()
			s.stats.Violations++
			s.mu.Unlock()
			return err
		}
	}
	return nil
}

// readPayload reads exactly p.Size bytes from the start of p.Body and
// verifies the checksum.
func readPayload(op, name string, p blob.Payload) ([]byte, error) {
	if _, err := p.Body.Seek(0, io.SeekStart); err != nil {
		return nil, storeerr.Invalid(op, name, "rewind body: %w", err)
	}
	data := make([]byte, p.Size)
	if _, err := io.ReadFull(p.Body, data); err != nil {
		return nil, storeerr.Invalid(op, name, "body shorter than %d bytes: %w", p.Size, err)
	}
	if got := blob.Checksum(data); got != p.CRC64 {
		return nil, &storeerr.Error{Op: op, Name: name, Status: 400, Code: "Crc64Mismatch", Class: storeerr.ErrChecksum,
			Err: fmt.Errorf("crc64 %016x, header %016x", got, p.CRC64)}
	}
	return data, nil
}
