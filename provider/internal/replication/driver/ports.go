package driver

import (
	"context"
	"fmt"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/units"
)

// Agent is what the driver needs of the local agent: the transfer calls
// of agentclient.Client.
type Agent interface {
	StartInitialCopy(ctx context.Context, spec agentclient.InitialCopy) (agentclient.Job, error)
	StartCycleUpload(ctx context.Context, spec agentclient.CycleUpload) (agentclient.Job, error)
	WatchJob(ctx context.Context, id string, fn func(agentclient.Job) error) (agentclient.Job, error)
	CancelJob(ctx context.Context, id string) (agentclient.Job, error)
	ListJobs(ctx context.Context, vmID string) ([]agentclient.Job, error)
	SetThrottle(ctx context.Context, t agentclient.Throttle) (agentclient.Throttle, units.Bandwidth, error)
}

var _ Agent = (*agentclient.Client)(nil)

// BlobKind says which blob a SAS is for.
type BlobKind string

// Blob kinds: the replica base a copy writes (page blob), and a cycle's
// delta object (block blob, create only).
const (
	BlobReplica BlobKind = "replica"
	BlobDelta   BlobKind = "delta"
)

// SASRequest names the blob a SAS is wanted for: a disk's replica base of
// a generation, or its delta object of a cycle.
type SASRequest struct {
	VMID, DiskID string
	Kind         BlobKind
	Generation   uint64
	Cycle        uint64
}

// SAS is a blob name with a URL that may write it.
type SAS struct {
	Blob string
	URL  secret.String
}

// DiskProgress is one disk's copy progress.
type DiskProgress struct {
	DiskID      string
	Done, Total int64
}

// Progress is the local view of a VM the hub shows the operator.
type Progress struct {
	VMID            string
	Phase           replication.Phase
	Disks           []DiskProgress
	LastCycle       uint64
	LastRPO         time.Duration
	PendingLogBytes int64
}

// Health is a warning or notice about a VM.
type Health struct {
	VMID, Level, Message string
}

// Hub is what the driver needs of the hub link.
type Hub interface {
	// RequestSAS returns a SAS for exactly one blob of the VM.
	RequestSAS(ctx context.Context, req SASRequest) (SAS, error)
	// ReportCycle delivers a manifest; delivering the same manifest again
	// must be harmless.
	ReportCycle(ctx context.Context, m replication.Manifest) error
	// ReportProgress and ReportHealth inform; they may be dropped.
	ReportProgress(ctx context.Context, p Progress) error
	ReportHealth(ctx context.Context, h Health) error
}

// LinkAgent is an Agent over the provider's reconnecting agent link: each
// call goes to the live session, or fails with ErrUnavailable.
type LinkAgent struct{ Link *agentclient.Link }

var _ Agent = LinkAgent{}

// agentWait bounds how long a call waits for the agent to come back: a
// restarted agent is back within seconds, and failing at once would send
// the VM into the failure backoff (minutes, growing) for a blip.
const agentWait = 30 * time.Second

// client returns the live session's client, waiting up to agentWait for
// one while the agent restarts.
func (l LinkAgent) client(ctx context.Context) (*agentclient.Client, error) {
	timer := time.NewTimer(agentWait)
	defer timer.Stop()
	for {
		changed := l.Link.Changed()
		if c, _, ok := l.Link.Current(); ok {
			return c, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: no session: %w", agentclient.ErrUnavailable, ctx.Err())
		case <-timer.C:
			return nil, fmt.Errorf("%w: no session for %s", agentclient.ErrUnavailable, agentWait)
		}
	}
}

// StartInitialCopy implements Agent.
func (l LinkAgent) StartInitialCopy(ctx context.Context, spec agentclient.InitialCopy) (agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Job{}, err
	}
	return c.StartInitialCopy(ctx, spec)
}

// StartCycleUpload implements Agent.
func (l LinkAgent) StartCycleUpload(ctx context.Context, spec agentclient.CycleUpload) (agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Job{}, err
	}
	return c.StartCycleUpload(ctx, spec)
}

// WatchJob implements Agent.
func (l LinkAgent) WatchJob(ctx context.Context, id string, fn func(agentclient.Job) error) (agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Job{}, err
	}
	return c.WatchJob(ctx, id, fn)
}

// CancelJob implements Agent.
func (l LinkAgent) CancelJob(ctx context.Context, id string) (agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Job{}, err
	}
	return c.CancelJob(ctx, id)
}

// ListJobs implements Agent.
func (l LinkAgent) ListJobs(ctx context.Context, vmID string) ([]agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return nil, err
	}
	return c.ListJobs(ctx, vmID)
}

// SetThrottle implements Agent.
func (l LinkAgent) SetThrottle(ctx context.Context, t agentclient.Throttle) (agentclient.Throttle, units.Bandwidth, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Throttle{}, 0, err
	}
	return c.SetThrottle(ctx, t)
}

// HashDisk implements hublink's Hasher on the live agent session.
func (l LinkAgent) HashDisk(ctx context.Context, path string, chunkBytes int64, fn func(first int64, hashes []string) error) (int64, error) {
	c, err := l.client(ctx)
	if err != nil {
		return 0, err
	}
	return c.HashDisk(ctx, path, chunkBytes, fn)
}

// StartResyncUpload implements ResyncAgent.
func (l LinkAgent) StartResyncUpload(ctx context.Context, spec agentclient.ResyncUpload) (agentclient.Job, error) {
	c, err := l.client(ctx)
	if err != nil {
		return agentclient.Job{}, err
	}
	return c.StartResyncUpload(ctx, spec)
}
