package server

import (
	"fmt"

	"hvmigrate/agent/internal/chunkhash"
	"hvmigrate/agent/internal/jobs"
	"hvmigrate/shared/diskfile"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
)

// HashDisk streams the chunk hashes of a disk.
func (s *Server) HashDisk(req *agentv1.HashDiskRequest, stream agentv1.AgentService_HashDiskServer) error {
	img, err := diskfile.Open(req.GetDiskPath())
	if err != nil {
		return toStatus(fmt.Errorf("%w: %w", jobs.ErrSourceCorrupt, err))
	}
	defer img.Close()
	size := uint64(img.Size())
	err = chunkhash.Hash(stream.Context(), img, int64(req.GetChunkBytes()), func(first int64, hashes []string) error {
		resp := &agentv1.HashDiskResponse{FirstChunk: uint64(first), Sha256: hashes, VirtualSize: size}
		size = 0
		return stream.Send(resp)
	})
	if err != nil {
		return toStatus(err)
	}
	return nil
}
