package stream

import (
	"fmt"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// MaxRangesPerCommand bounds one ResyncRanges command (a few dozen bytes
// per range keeps it far below the 4 MiB message limit).
const MaxRangesPerCommand = 16384

// ResyncHashes are chunk hashes of one disk's frozen view at a resync's
// checkpoint; a large disk's come in several events of one request.
type ResyncHashes struct {
	VMID, DiskID string
	Cycle        uint64
	RequestID    string
	ChunkBytes   uint64
	FirstChunk   uint64
	SHA256       []string // lowercase hex; "" for a chunk that reads as zeros
}

// ResyncRanges tells a host which ranges of a disk differ from the
// replica, in parts; every part carries the grant of the resync object.
// FullCopy says the replica cannot be compared and the disk is copied.
type ResyncRanges struct {
	VMID, DiskID string
	Cycle        uint64
	RequestID    string
	FullCopy     bool
	Part, Parts  uint32
	Ranges       []ByteRange
	Grant        *SASGrant
}

// ByteRange is a range of a virtual disk; Zero when the source reads as
// zeros there.
type ByteRange struct {
	Offset, Length uint64
	Zero           bool
}

func resyncRangesToProto(r *ResyncRanges) *hubv1.ResyncRanges {
	out := &hubv1.ResyncRanges{VmId: r.VMID, DiskId: r.DiskID, Cycle: r.Cycle, RequestId: r.RequestID, FullCopy: r.FullCopy,
		Part: r.Part, Parts: r.Parts}
	for _, g := range r.Ranges {
		out.Ranges = append(out.Ranges, &hubv1.ByteRange{Offset: g.Offset, Length: g.Length, Zero: g.Zero})
	}
	if r.Grant != nil {
		out.Sas = grantsToProto([]SASGrant{*r.Grant})[0]
	}
	return out
}

// resyncHashesFromProto converts and bounds a ResyncHashes event.
func resyncHashesFromProto(id string, h *hubv1.ResyncHashes) (*ResyncHashes, error) {
	switch {
	case len(h.GetSha256()) > maxHashesPerEvent:
		return nil, fmt.Errorf("%w: event %s carries more than %d hashes", ErrInvalid, id, maxHashesPerEvent)
	case h.GetRequestId() == "" || len(h.GetRequestId()) > maxIDLen:
		return nil, fmt.Errorf("%w: event %s: request id must be 1-%d characters", ErrInvalid, id, maxIDLen)
	}
	return &ResyncHashes{VMID: h.GetVmId(), DiskID: h.GetDiskId(), Cycle: h.GetCycle(), RequestID: h.GetRequestId(),
		ChunkBytes: h.GetChunkBytes(), FirstChunk: h.GetFirstChunk(), SHA256: h.GetSha256()}, nil
}
