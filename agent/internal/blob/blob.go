// Package blob is the agent's view of Azure Blob storage: one small
// interface, Store, with the operations the upload engine needs for replica
// page blobs and per-cycle delta block blobs, and the error classes every
// implementation maps its failures to.
//
// Implementations live in subpackages: azure (the service, through a SAS
// URL), mem (an in-memory fake for tests). Cross-cutting concerns wrap a
// Store: retry, redact, limit and logging. blobtest holds the conformance
// suite every implementation passes.
//
// Every operation is idempotent, so that a request whose outcome is unknown
// (the response was lost) can be repeated: creating a page blob that exists
// with the same size succeeds, rewriting pages writes the same bytes,
// re-staging a block replaces it, and committing a block list that is
// already the blob's committed list succeeds.
package blob

import (
	"context"
	"io"
)

// Page blob and block limits of the service.
const (
	// PageSize is the page blob page; offsets and lengths are multiples of it.
	PageSize = 512
	// MaxPutPage is the most one Put Page may write.
	MaxPutPage = 4 << 20
	// MaxBlockIDLen is the longest block ID before base64 encoding.
	MaxBlockIDLen = 64
	// MaxStageBlock is the block size this package allows; the service
	// allows more, the agent never needs it.
	MaxStageBlock = 100 << 20
)

// Store is blob storage as the agent uses it. Names are blob names within
// the container the Store was opened on.
type Store interface {
	// CreatePageBlob creates an empty page blob of size bytes (a multiple of
	// PageSize). It succeeds if the page blob already exists with that size
	// and fails with ErrExists if a blob of another size or kind is there;
	// it never truncates or zeroes an existing blob.
	CreatePageBlob(ctx context.Context, name string, size int64) error
	// WritePages writes p at off: off and p.Size multiples of PageSize,
	// p.Size at most MaxPutPage, the range inside the blob. The service
	// verifies p.CRC64 against the bytes it received.
	WritePages(ctx context.Context, name string, off int64, p Payload) error
	// ClearPages zeroes [off, off+n); off and n multiples of PageSize.
	ClearPages(ctx context.Context, name string, off, n int64) error
	// StageBlock uploads an uncommitted block of a block blob. IDs are at
	// most MaxBlockIDLen bytes and of one length within a blob.
	StageBlock(ctx context.Context, name, id string, p Payload) error
	// CommitBlocks makes the staged blocks ids, in order, the content of a
	// new block blob. It never replaces an existing blob: if the blob exists
	// with exactly this block list (an earlier try whose answer was lost)
	// it succeeds, otherwise it fails with ErrExists.
	CommitBlocks(ctx context.Context, name string, ids []string) error
	// Properties returns the blob's kind, size and sequence number, or
	// ErrNotFound.
	Properties(ctx context.Context, name string) (Properties, error)
}

// Payload is the body of a write: Size bytes read from the start of Body,
// whose CRC-64 (Azure polynomial, see Checksum) was computed by the caller
// from the source bytes before they entered the HTTP stack.
type Payload struct {
	Body  io.ReadSeeker
	Size  int64
	CRC64 uint64
}

// Kind is the type of a blob.
type Kind int

// Blob kinds.
const (
	KindUnknown Kind = iota
	KindPage
	KindBlock
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindPage:
		return "page"
	case KindBlock:
		return "block"
	default:
		return "unknown"
	}
}

// Properties describe a blob.
type Properties struct {
	Kind           Kind
	Size           int64
	SequenceNumber int64 // page blobs only
}
