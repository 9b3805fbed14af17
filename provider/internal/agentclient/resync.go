package agentclient

import (
	"context"

	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/secret"
)

// Range is a range of a virtual disk a resync sends; a Zero range reads
// as zeros on the source and goes up as a zero extent without a read.
type Range struct {
	Offset, Length int64
	Zero           bool
}

// ResyncUpload asks for the differing ranges of a frozen disk to be
// uploaded as the disk's resync delta object of Cycle.
type ResyncUpload struct {
	JobID, VMID, DiskID, DiskPath string
	Cycle, Previous               uint64
	Ranges                        []Range
	Target                        secret.String
	Threads                       int
}

// StartResyncUpload starts a resync upload job, or returns the one known
// by its id (the same ranges with a renewed SAS are the same job).
func (c *Client) StartResyncUpload(ctx context.Context, spec ResyncUpload) (Job, error) {
	req := &agentv1.StartResyncUploadRequest{JobId: spec.JobID, VmId: spec.VMID, DiskId: spec.DiskID, DiskPath: spec.DiskPath,
		Cycle: spec.Cycle, PreviousCycle: spec.Previous, TargetUrl: spec.Target.Reveal(), Threads: uint32(max(spec.Threads, 0))}
	for _, g := range spec.Ranges {
		req.Ranges = append(req.Ranges, &agentv1.DiskRange{Offset: uint64(max(g.Offset, 0)), Length: uint64(max(g.Length, 0)), Zero: g.Zero})
	}
	resp, err := c.api.StartResyncUpload(ctx, req)
	if err != nil {
		return Job{}, fromJobStatus(err)
	}
	return toJob(resp.GetJob()), nil
}
