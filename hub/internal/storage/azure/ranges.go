package azure

import (
	"context"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
)

// maxPageRanges is the most ranges the service returns on one page.
const maxPageRanges = 5000

// PageRanges implements storage.Store with Get Page Ranges over the
// window. It stops after the first page of the service's listing that
// holds a range and has a continuation, and reports how far that page
// got, so one call holds at most one page; the emulator ignores
// maxresults, so the ranges are limited here as well.
func (s *Store) PageRanges(ctx context.Context, name, snapshot string, off, n int64, limit int) ([]storage.Range, int64, error) {
	const op = "get page ranges"
	pb, err := s.pageClient(op, name)
	if err != nil {
		return nil, 0, err
	}
	if err := storage.CheckPageRanges(op, name, off, n, limit); err != nil {
		return nil, 0, err
	}
	opts := &pageblob.GetPageRangesOptions{
		Range:      azblob.HTTPRange{Offset: off, Count: n},
		MaxResults: to.Ptr(int32(min(limit, maxPageRanges))),
	}
	if snapshot != "" {
		opts.Snapshot = to.Ptr(snapshot)
	}
	pager := pb.NewGetPageRangesPager(opts)
	var out []storage.Range
	listed := off + n
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, 0, storeerr.FromSDK(ctx, op, name, err)
		}
		for _, r := range page.PageRange {
			if r != nil && r.Start != nil && r.End != nil && *r.End >= *r.Start {
				out = append(out, storage.Range{Off: *r.Start, N: *r.End - *r.Start + 1}) // End is inclusive
			}
		}
		if k := len(out) - 1; k >= 0 && out[k].End() > off && pager.More() {
			listed = min(out[k].End(), off+n)
			break
		}
	}
	out, listed = storage.LimitRanges(out, off, listed, limit)
	return out, listed, nil
}
