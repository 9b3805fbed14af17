package agentclient

import (
	"context"
	"errors"
	"fmt"
	"io"

	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
)

// HashDisk hashes a disk in chunks of chunkBytes on the agent and calls fn
// with each piece of hashes in order: first is the index of the piece's
// first chunk, and an empty hash marks a chunk that reads as zeros
// without allocated data. It returns the disk's virtual size.
func (c *Client) HashDisk(ctx context.Context, path string, chunkBytes int64, fn func(first int64, hashes []string) error) (int64, error) {
	if chunkBytes <= 0 {
		return 0, fmt.Errorf("hash %s: chunk size %d", path, chunkBytes)
	}
	stream, err := c.api.HashDisk(ctx, &agentv1.HashDiskRequest{DiskPath: path, ChunkBytes: uint64(chunkBytes)})
	if err != nil {
		return 0, fromJobStatus(err)
	}
	var size int64
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return size, nil
		}
		if err != nil {
			return size, fromJobStatus(err)
		}
		if v := resp.GetVirtualSize(); v > 0 {
			size = int64(v)
		}
		if err := fn(int64(resp.GetFirstChunk()), resp.GetSha256()); err != nil {
			return size, err
		}
	}
}
