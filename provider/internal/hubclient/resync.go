package hubclient

import (
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// ResyncHashes are chunk hashes of one disk's frozen view at a resync's
// checkpoint, for the hub to compare with the replica; a large disk's
// come in several events of one request.
type ResyncHashes struct {
	VMID, DiskID string
	Cycle        uint64
	RequestID    string
	ChunkBytes   uint64
	FirstChunk   uint64
	SHA256       []string // lowercase hex; "" for a chunk that reads as zeros
}

// ResyncRanges is (one part of) the hub's answer to a request's hashes:
// the ranges of the disk that differ from the replica, with the grant on
// the disk's resync object; FullCopy when the replica cannot be compared.
type ResyncRanges struct {
	VMID, DiskID string
	Cycle        uint64
	RequestID    string
	FullCopy     bool
	Part, Parts  uint32
	Ranges       []ByteRange
	Grant        *SASGrant
}

// ByteRange is a range of a virtual disk; Zero where the source reads as
// zeros.
type ByteRange struct {
	Offset, Length uint64
	Zero           bool
}

func resyncHashesToProto(h *ResyncHashes) *hubv1.ResyncHashes {
	return &hubv1.ResyncHashes{VmId: h.VMID, DiskId: h.DiskID, Cycle: h.Cycle, RequestId: h.RequestID,
		ChunkBytes: h.ChunkBytes, FirstChunk: h.FirstChunk, Sha256: h.SHA256}
}

func resyncRangesFromProto(r *hubv1.ResyncRanges) *ResyncRanges {
	out := &ResyncRanges{VMID: r.GetVmId(), DiskID: r.GetDiskId(), Cycle: r.GetCycle(), RequestID: r.GetRequestId(),
		FullCopy: r.GetFullCopy(), Part: r.GetPart(), Parts: r.GetParts()}
	for _, g := range r.GetRanges() {
		out.Ranges = append(out.Ranges, ByteRange{Offset: g.GetOffset(), Length: g.GetLength(), Zero: g.GetZero()})
	}
	if r.GetSas() != nil {
		out.Grant = &grantsFromProto([]*hubv1.SasGrant{r.GetSas()})[0]
	}
	return out
}
