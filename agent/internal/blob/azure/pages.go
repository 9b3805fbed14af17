package azure

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

// ifNoneMatchAny makes a write fail when the blob already exists.
func ifNoneMatchAny() *azblob.AccessConditions {
	return &azblob.AccessConditions{ModifiedAccessConditions: &azblob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}
}

// CreatePageBlob implements blob.Store. The create carries If-None-Match: *
// so that a retry never zeroes a blob already written; on a conflict the
// existing blob's properties decide.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	const op = "create page blob"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	if err := blob.CheckPageBlobSize(name, size); err != nil {
		return err
	}
	_, err := s.container.NewPageBlobClient(name).Create(ctx, size, &pageblob.CreateOptions{AccessConditions: ifNoneMatchAny()})
	err = storeerr.FromSDK(ctx, op, name, err)
	if !isConflict(err) {
		return err
	}
	p, perr := s.Properties(ctx, name)
	if perr != nil {
		return err // cannot tell (e.g. no read permission): report the conflict
	}
	if p.Kind == blob.KindPage && p.Size == size {
		return nil
	}
	return &storeerr.Error{Op: op, Name: name, Status: 409, Class: storeerr.ErrExists,
		Err: fmt.Errorf("existing %s blob has size %d, want %d", p.Kind, p.Size, size)}
}

// WritePages implements blob.Store.
func (s *Store) WritePages(ctx context.Context, name string, off int64, p blob.Payload) error {
	const op = "write pages"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	if err := blob.CheckPageWrite(name, off, p.Size); err != nil {
		return err
	}
	_, err := s.container.NewPageBlobClient(name).UploadPages(ctx, newBody(p),
		azblob.HTTPRange{Offset: off, Count: p.Size},
		&pageblob.UploadPagesOptions{TransactionalValidation: azblob.TransferValidationTypeCRC64(p.CRC64)})
	return storeerr.FromSDK(ctx, op, name, err)
}

// ClearPages implements blob.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64) error {
	const op = "clear pages"
	if err := s.checkName(op, name); err != nil {
		return err
	}
	if err := blob.CheckClear(name, off, n); err != nil {
		return err
	}
	_, err := s.container.NewPageBlobClient(name).ClearPages(ctx, azblob.HTTPRange{Offset: off, Count: n}, nil)
	return storeerr.FromSDK(ctx, op, name, err)
}

// Properties implements blob.Store.
func (s *Store) Properties(ctx context.Context, name string) (blob.Properties, error) {
	const op = "get properties"
	if err := s.checkName(op, name); err != nil {
		return blob.Properties{}, err
	}
	r, err := s.container.NewBlobClient(name).GetProperties(ctx, nil)
	if err != nil {
		return blob.Properties{}, storeerr.FromSDK(ctx, op, name, err)
	}
	var p blob.Properties
	if r.ContentLength != nil {
		p.Size = *r.ContentLength
	}
	if r.BlobSequenceNumber != nil {
		p.SequenceNumber = *r.BlobSequenceNumber
	}
	if r.BlobType != nil {
		switch *r.BlobType {
		case azblob.BlobTypePageBlob:
			p.Kind = blob.KindPage
		case azblob.BlobTypeBlockBlob:
			p.Kind = blob.KindBlock
		}
	}
	return p, nil
}
