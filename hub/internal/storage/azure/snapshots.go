package azure

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// CreateSnapshot implements storage.Store.
func (s *Store) CreateSnapshot(ctx context.Context, name string, md map[string]string) (string, error) {
	const op = "create snapshot"
	c, err := s.blobClient(op, name, "")
	if err != nil {
		return "", err
	}
	var m map[string]*string
	for k, v := range md {
		if m == nil {
			m = map[string]*string{}
		}
		m[k] = to.Ptr(v)
	}
	r, err := c.CreateSnapshot(ctx, &azblob.CreateSnapshotOptions{Metadata: m})
	if err != nil {
		return "", storeerr.FromSDK(ctx, op, name, err)
	}
	if r.Snapshot == nil {
		return "", &storeerr.Error{Op: op, Name: name, Class: storeerr.ErrTransient, Err: fmt.Errorf("no snapshot id in the answer")}
	}
	return *r.Snapshot, nil
}

// ListSnapshots implements storage.Store.
func (s *Store) ListSnapshots(ctx context.Context, name string) ([]storage.Snapshot, error) {
	const op = "list snapshots"
	ctr, b, err := storage.SplitName(op, name)
	if err != nil {
		return nil, err
	}
	pager := s.svc.NewContainerClient(ctr).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix: to.Ptr(b), Include: container.ListBlobsInclude{Snapshots: true, Metadata: true}})
	var out []storage.Snapshot
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, storeerr.FromSDK(ctx, op, name, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil || *it.Name != b || it.Snapshot == nil || *it.Snapshot == "" {
				continue
			}
			out = append(out, storage.Snapshot{ID: *it.Snapshot, Metadata: meta(it.Metadata)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return snapTime(out[i].ID).Before(snapTime(out[j].ID)) })
	return out, nil
}

// snapTime parses a snapshot id; an unparsable one sorts first.
func snapTime(id string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, id)
	return t
}

// DeleteSnapshot implements storage.Store.
func (s *Store) DeleteSnapshot(ctx context.Context, name, snapshot string) error {
	const op = "delete snapshot"
	if snapshot == "" {
		return storeerr.Invalid(op, name, "no snapshot id: refusing to delete the base blob")
	}
	c, err := s.blobClient(op, name, snapshot)
	if err != nil {
		return err
	}
	_, err = c.Delete(ctx, nil)
	return storeerr.FromSDK(ctx, op, name, err)
}

// CopySnapshot implements storage.Store: a server-side copy from the
// snapshot's URL (built from our own endpoint, never from outside input),
// polled until it ends.
func (s *Store) CopySnapshot(ctx context.Context, name, snapshot, dst string) error {
	const op = "copy snapshot"
	src, err := s.blobClient(op, name, snapshot)
	if err != nil {
		return err
	}
	d, err := s.blobClient(op, dst, "")
	if err != nil {
		return err
	}
	_, err = d.StartCopyFromURL(ctx, src.URL(), &azblob.StartCopyFromURLOptions{AccessConditions: ifNoneMatchAny()})
	if err = storeerr.FromSDK(ctx, op, dst, err); err != nil {
		var e *storeerr.Error
		if asError(err, &e) && (e.Status == 409 || e.Status == 412) {
			e.Class = storeerr.ErrExists
		}
		return err
	}
	return s.waitCopy(ctx, d, dst)
}

// waitCopy polls the destination until its copy is no longer pending.
func (s *Store) waitCopy(ctx context.Context, d *azblob.Client, dst string) error {
	const op = "copy snapshot"
	for {
		r, err := d.GetProperties(ctx, nil)
		if err != nil {
			return storeerr.FromSDK(ctx, op, dst, err)
		}
		if r.CopyStatus == nil || *r.CopyStatus == azblob.CopyStatusTypeSuccess {
			return nil
		}
		if *r.CopyStatus != azblob.CopyStatusTypePending {
			return &storeerr.Error{Op: op, Name: dst, Class: storeerr.ErrTransient, Err: fmt.Errorf("copy ended %s", *r.CopyStatus)}
		}
		select {
		case <-ctx.Done():
			return &storeerr.Error{Op: op, Name: dst, Err: ctx.Err()}
		case <-time.After(s.copyPoll):
		}
	}
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, prefix string) ([]storage.BlobInfo, error) {
	const op = "list"
	ctr, rest, err := storage.SplitPrefix(op, prefix)
	if err != nil {
		return nil, err
	}
	opts := &container.ListBlobsFlatOptions{}
	if rest != "" {
		opts.Prefix = to.Ptr(rest)
	}
	pager := s.svc.NewContainerClient(ctr).NewListBlobsFlatPager(opts)
	var out []storage.BlobInfo
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, storeerr.FromSDK(ctx, op, prefix, err)
		}
		for _, it := range page.Segment.BlobItems {
			if it.Name == nil {
				continue
			}
			bi := storage.BlobInfo{Name: ctr + "/" + *it.Name}
			if it.Properties != nil {
				bi.Kind = kindOf(it.Properties.BlobType)
				if it.Properties.ContentLength != nil {
					bi.Size = *it.Properties.ContentLength
				}
			}
			out = append(out, bi)
		}
	}
	return out, nil
}
