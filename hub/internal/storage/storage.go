// Package storage is the hub's view of Azure Blob Storage: the operations
// the applier and the recovery points need, with errors sorted into a few
// classes. The azure subpackage implements Store on the azblob SDK (the only
// hub code that imports it), mem is an in-memory fake that checks every
// request against the service's rules, retry wraps a Store with backoff, and
// storagetest is the conformance suite every implementation passes.
//
// Names are "container/blob": the first path segment is the container, so
// one Store, holding the account credential, reaches the delta objects and
// the replica disks wherever the hub keeps them.
//
// The hub wires retry.New(azure.New(...)): the Azure store makes one try per
// call, the wrapper classifies failures and retries with backoff, honouring
// Retry-After.
package storage

import (
	"context"
	"io"
	"time"
)

// PageSize is the unit of page blob sizes and page writes.
const PageSize = 512

// MaxPutPage is the most one Put Page call writes.
const MaxPutPage = 4 << 20

// Kind is a blob type.
type Kind int

// Blob types.
const (
	KindUnknown Kind = iota
	KindBlock
	KindPage
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindBlock:
		return "block"
	case KindPage:
		return "page"
	}
	return "unknown"
}

// Properties describe one blob or snapshot.
type Properties struct {
	Kind           Kind
	Size           int64
	SequenceNumber int64 // page blobs only
	ETag           string
	LastModified   time.Time
	Metadata       map[string]string
}

// BlobInfo is one entry of a listing.
type BlobInfo struct {
	Name string // "container/blob"
	Kind Kind
	Size int64
}

// Snapshot is one snapshot of a blob.
type Snapshot struct {
	ID       string // the service's snapshot timestamp
	Metadata map[string]string
}

// Cond is a sequence-number precondition on a page write; the zero value
// is no condition.
type Cond struct {
	le  int64
	set bool
}

// IfSequenceLE makes a write succeed only while the page blob's sequence
// number is at most n; otherwise it fails with ErrConditionNotMet.
func IfSequenceLE(n int64) Cond { return Cond{le: n, set: true} }

// SequenceLE returns the bound and whether there is one.
func (c Cond) SequenceLE() (int64, bool) { return c.le, c.set }

// Store is the hub's storage. Every method is safe for concurrent use, and
// every mutating method is idempotent except CreateSnapshot, whose retry
// after an unknown outcome may leave an extra snapshot (callers tag
// snapshots with metadata and look them up to stay idempotent).
type Store interface {
	// Properties returns a blob's properties, or a snapshot's when
	// snapshot is not empty.
	Properties(ctx context.Context, name, snapshot string) (Properties, error)
	// ReadAt reads len(p) bytes at off of a blob or snapshot. Like
	// io.ReaderAt it returns io.EOF with a short count at the end.
	ReadAt(ctx context.Context, name, snapshot string, p []byte, off int64) (int, error)
	// OpenRange streams n bytes at off of a blob or snapshot (fewer at the
	// end of the blob), for large sequential reads with a small buffer. An
	// error while reading the stream is ErrTransient.
	OpenRange(ctx context.Context, name, snapshot string, off, n int64) (io.ReadCloser, error)
	// Upload writes a new block blob from r; an existing blob is ErrExists.
	Upload(ctx context.Context, name string, r io.Reader) error
	// CreatePageBlob creates a zeroed page blob of size bytes (a multiple
	// of PageSize). An existing page blob of that size is success and is
	// left untouched; anything else there is ErrExists.
	CreatePageBlob(ctx context.Context, name string, size int64) error
	// PutPages writes data (at most MaxPutPage bytes, PageSize aligned) at
	// off, with crc, the CRC-64 of data (see CRC64), as the transactional
	// checksum, under cond.
	PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, cond Cond) error
	// ClearPages zeroes n bytes at off (both PageSize aligned) under cond.
	ClearPages(ctx context.Context, name string, off, n int64, cond Cond) error
	// SetSequenceNumber raises the page blob's sequence number to n; it
	// never lowers it (the service's "max" action), so a late caller
	// cannot move the fence back.
	SetSequenceNumber(ctx context.Context, name string, n int64) error
	// CreateSnapshot snapshots a blob, tagging the snapshot with meta.
	CreateSnapshot(ctx context.Context, name string, meta map[string]string) (string, error)
	// ListSnapshots returns the snapshots of one blob, oldest first; a
	// missing blob has none (it is a listing).
	ListSnapshots(ctx context.Context, name string) ([]Snapshot, error)
	// DeleteSnapshot deletes one snapshot of a blob.
	DeleteSnapshot(ctx context.Context, name, snapshot string) error
	// CopySnapshot copies a snapshot of a blob to a new blob dst, waiting
	// until the copy completes. An existing dst is ErrExists.
	CopySnapshot(ctx context.Context, name, snapshot, dst string) error
	// List returns the blobs (not snapshots) whose names start with
	// prefix, which must name a container ("container/" at least).
	List(ctx context.Context, prefix string) ([]BlobInfo, error)
	// PageRanges lists the valid (written, not cleared) pages of a page
	// blob, or of a snapshot when snapshot is not empty, in the window
	// [off, off+n), both PageSize aligned and inside the blob. It returns
	// at most limit ranges, sorted, merged and page aligned, inside the
	// window, and next: the listing is complete for [off, next), and next
	// is off+n once the window is done, so a caller walks any blob in
	// bounded batches by resuming at next. Every byte of [off, next)
	// outside the ranges reads as zero; the ranges may also hold zeros (a
	// superset of the non-zero data), which callers must accept.
	PageRanges(ctx context.Context, name, snapshot string, off, n int64, limit int) (ranges []Range, next int64, err error)
}
