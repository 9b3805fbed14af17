package azure

import (
	"bytes"
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// pageClient returns the page blob client of a checked name.
func (s *Store) pageClient(op, name string) (*pageblob.Client, error) {
	ctr, b, err := storage.SplitName(op, name)
	if err != nil {
		return nil, err
	}
	return s.svc.NewContainerClient(ctr).NewPageBlobClient(b), nil
}

// ifNoneMatchAny makes a create fail when the blob already exists.
func ifNoneMatchAny() *azblob.AccessConditions {
	return &azblob.AccessConditions{ModifiedAccessConditions: &azblob.ModifiedAccessConditions{IfNoneMatch: to.Ptr(azcore.ETagAny)}}
}

// seqConditions converts a storage.Cond.
func seqConditions(c storage.Cond) *pageblob.SequenceNumberAccessConditions {
	le, ok := c.SequenceLE()
	if !ok {
		return nil
	}
	return &pageblob.SequenceNumberAccessConditions{IfSequenceNumberLessThanOrEqualTo: to.Ptr(le)}
}

// CreatePageBlob implements storage.Store. The create carries
// If-None-Match: * so that a retry never zeroes a blob already written; on
// a conflict the existing blob's properties decide.
func (s *Store) CreatePageBlob(ctx context.Context, name string, size int64) error {
	const op = "create page blob"
	pb, err := s.pageClient(op, name)
	if err != nil {
		return err
	}
	if err := storage.CheckPageBlobSize(op, name, size); err != nil {
		return err
	}
	_, err = pb.Create(ctx, size, &pageblob.CreateOptions{AccessConditions: ifNoneMatchAny()})
	err = storeerr.FromSDK(ctx, op, name, err)
	if !isConflict(err) {
		return err
	}
	p, perr := s.Properties(ctx, name, "")
	if perr != nil {
		return err
	}
	if p.Kind == storage.KindPage && p.Size == size {
		return nil
	}
	return &storeerr.Error{Op: op, Name: name, Status: 409, Class: storeerr.ErrExists,
		Err: fmt.Errorf("existing %s blob has size %d, want %d", p.Kind, p.Size, size)}
}

// isConflict reports whether err says the blob already exists.
func isConflict(err error) bool {
	var e *storeerr.Error
	return err != nil && asError(err, &e) && (e.Status == 409 || e.Status == 412)
}

// PutPages implements storage.Store.
func (s *Store) PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, cond storage.Cond) error {
	const op = "put pages"
	pb, err := s.pageClient(op, name)
	if err != nil {
		return err
	}
	if err := storage.CheckPut(op, name, off, int64(len(data))); err != nil {
		return err
	}
	_, err = pb.UploadPages(ctx, nopCloser{bytes.NewReader(data)},
		azblob.HTTPRange{Offset: off, Count: int64(len(data))},
		&pageblob.UploadPagesOptions{
			TransactionalValidation:        azblob.TransferValidationTypeCRC64(crc),
			SequenceNumberAccessConditions: seqConditions(cond),
		})
	return storeerr.FromSDK(ctx, op, name, err)
}

// ClearPages implements storage.Store.
func (s *Store) ClearPages(ctx context.Context, name string, off, n int64, cond storage.Cond) error {
	const op = "clear pages"
	pb, err := s.pageClient(op, name)
	if err != nil {
		return err
	}
	if err := storage.CheckClear(op, name, off, n); err != nil {
		return err
	}
	_, err = pb.ClearPages(ctx, azblob.HTTPRange{Offset: off, Count: n},
		&pageblob.ClearPagesOptions{SequenceNumberAccessConditions: seqConditions(cond)})
	return storeerr.FromSDK(ctx, op, name, err)
}

// SetSequenceNumber implements storage.Store with the "max" action.
func (s *Store) SetSequenceNumber(ctx context.Context, name string, n int64) error {
	const op = "set sequence number"
	pb, err := s.pageClient(op, name)
	if err != nil {
		return err
	}
	if n < 0 {
		return storeerr.Invalid(op, name, "sequence number %d is negative", n)
	}
	_, err = pb.UpdateSequenceNumber(ctx, &pageblob.UpdateSequenceNumberOptions{
		ActionType:     to.Ptr(pageblob.SequenceNumberActionTypeMax),
		SequenceNumber: to.Ptr(n),
	})
	return storeerr.FromSDK(ctx, op, name, err)
}

// nopCloser gives a bytes.Reader the Close the SDK wants.
type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
