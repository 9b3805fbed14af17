package azure

import (
	"context"
	"errors"
	"io"
	"strings"

	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// asError is errors.As for *storeerr.Error.
func asError(err error, target **storeerr.Error) bool { return errors.As(err, target) }

// blobClient returns the blob client of a checked name, at a snapshot when
// one is given.
func (s *Store) blobClient(op, name, snapshot string) (*azblob.Client, error) {
	ctr, b, err := storage.SplitName(op, name)
	if err != nil {
		return nil, err
	}
	c := s.svc.NewContainerClient(ctr).NewBlobClient(b)
	if snapshot == "" {
		return c, nil
	}
	c, err = c.WithSnapshot(snapshot)
	if err != nil {
		return nil, storeerr.Invalid(op, name, "snapshot id %q", snapshot)
	}
	return c, nil
}

// Properties implements storage.Store.
func (s *Store) Properties(ctx context.Context, name, snapshot string) (storage.Properties, error) {
	const op = "get properties"
	c, err := s.blobClient(op, name, snapshot)
	if err != nil {
		return storage.Properties{}, err
	}
	r, err := c.GetProperties(ctx, nil)
	if err != nil {
		return storage.Properties{}, storeerr.FromSDK(ctx, op, name, err)
	}
	p := storage.Properties{Kind: kindOf(r.BlobType), Metadata: meta(r.Metadata)}
	if r.ContentLength != nil {
		p.Size = *r.ContentLength
	}
	if r.BlobSequenceNumber != nil {
		p.SequenceNumber = *r.BlobSequenceNumber
	}
	if r.ETag != nil {
		p.ETag = string(*r.ETag)
	}
	if r.LastModified != nil {
		p.LastModified = *r.LastModified
	}
	return p, nil
}

// kindOf converts the SDK's blob type.
func kindOf(t *azblob.BlobType) storage.Kind {
	switch {
	case t == nil:
		return storage.KindUnknown
	case *t == azblob.BlobTypePageBlob:
		return storage.KindPage
	case *t == azblob.BlobTypeBlockBlob:
		return storage.KindBlock
	}
	return storage.KindUnknown
}

// meta converts SDK metadata, keys lower-cased by the service's rules.
func meta(m map[string]*string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[strings.ToLower(k)] = *v
		}
	}
	return out
}

// ReadAt implements storage.Store with one ranged GET.
func (s *Store) ReadAt(ctx context.Context, name, snapshot string, p []byte, off int64) (int, error) {
	const op = "read"
	c, err := s.blobClient(op, name, snapshot)
	if err != nil || len(p) == 0 {
		return 0, err
	}
	if off < 0 {
		return 0, storeerr.Invalid(op, name, "negative offset %d", off)
	}
	r, err := c.DownloadStream(ctx, &azblob.DownloadStreamOptions{Range: azblob.HTTPRange{Offset: off, Count: int64(len(p))}})
	if err != nil {
		var e *storeerr.Error
		if err := storeerr.FromSDK(ctx, op, name, err); asError(err, &e) && e.Status == 416 {
			return 0, io.EOF
		} else {
			return 0, err
		}
	}
	defer r.Body.Close()
	n, err := io.ReadFull(r.Body, p)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		return n, io.EOF
	case err != nil:
		return n, storeerr.FromSDK(ctx, op, name, err)
	}
	return n, nil
}

// OpenRange implements storage.Store with one ranged GET whose body is
// returned unread.
func (s *Store) OpenRange(ctx context.Context, name, snapshot string, off, n int64) (io.ReadCloser, error) {
	const op = "read"
	c, err := s.blobClient(op, name, snapshot)
	if err != nil {
		return nil, err
	}
	if off < 0 || n <= 0 {
		return nil, storeerr.Invalid(op, name, "range %d+%d", off, n)
	}
	r, err := c.DownloadStream(ctx, &azblob.DownloadStreamOptions{Range: azblob.HTTPRange{Offset: off, Count: n}})
	if err != nil {
		var e *storeerr.Error
		if err := storeerr.FromSDK(ctx, op, name, err); asError(err, &e) && e.Status == 416 {
			return io.NopCloser(strings.NewReader("")), nil
		} else {
			return nil, err
		}
	}
	return &body{ctx: ctx, name: name, rc: r.Body}, nil
}

// body maps the errors of a response body to storage errors.
type body struct {
	ctx  context.Context
	name string
	rc   io.ReadCloser
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		err = storeerr.FromSDK(b.ctx, "read", b.name, err)
	}
	return n, err
}

func (b *body) Close() error { return b.rc.Close() }

// Upload implements storage.Store: staged blocks, then one commit that
// fails if the blob exists.
func (s *Store) Upload(ctx context.Context, name string, r io.Reader) error {
	const op = "upload"
	ctr, b, err := storage.SplitName(op, name)
	if err != nil {
		return err
	}
	bb := s.svc.NewContainerClient(ctr).NewBlockBlobClient(b)
	_, err = bb.UploadStream(ctx, r, &blockblob.UploadStreamOptions{
		BlockSize: storage.MaxPutPage, Concurrency: 4, AccessConditions: ifNoneMatchAny()})
	err = storeerr.FromSDK(ctx, op, name, err)
	var e *storeerr.Error
	if asError(err, &e) && errors.Is(err, storeerr.ErrConditionNotMet) {
		e.Class = storeerr.ErrExists // If-None-Match: * answered 412
	}
	return err
}
