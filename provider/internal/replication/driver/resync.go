package driver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/replication"
)

// ResyncAgent is what a chunk-hash resync needs of the agent: hashing a
// frozen disk and uploading its differing ranges.
type ResyncAgent interface {
	HashDisk(ctx context.Context, path string, chunkBytes int64, fn func(first int64, hashes []string) error) (int64, error)
	StartResyncUpload(ctx context.Context, spec agentclient.ResyncUpload) (agentclient.Job, error)
}

var (
	_ ResyncAgent = (*agentclient.Client)(nil)
	_ ResyncAgent = LinkAgent{}
)

// ResyncHashes is one piece of a disk's chunk hashes for the hub.
type ResyncHashes struct {
	VMID, DiskID string
	Cycle        uint64
	RequestID    string
	ChunkBytes   int64
	FirstChunk   int64
	SHA256       []string
}

// ResyncRequest names the hashes a comparison answers.
type ResyncRequest struct {
	VMID, DiskID, RequestID string
}

// ResyncAnswer is the hub's comparison: the ranges that differ and a SAS
// for the disk's resync object, or FullCopy when it cannot compare.
type ResyncAnswer struct {
	FullCopy bool
	Ranges   []agentclient.Range
	SAS      SAS
}

// Comparer is what a chunk-hash resync needs of the hub: it takes a
// disk's hashes and answers with the ranges where the replica differs.
type Comparer interface {
	// SendResyncHashes queues one piece of a request's hashes.
	SendResyncHashes(ctx context.Context, h ResyncHashes) error
	// AwaitResync waits for the hub's answer to a request.
	AwaitResync(ctx context.Context, req ResyncRequest) (ResyncAnswer, error)
}

// hashesPerPiece bounds one piece of hashes (65 bytes each on the wire).
const hashesPerPiece = 8192

// resyncChunk returns the chunk size for a disk: the smallest power of
// two from 64 KiB that keeps the disk within maxChunks chunks, at most
// 64 MiB. Small disks compare finely, and the hub's record of a large
// disk's hashes stays bounded.
func resyncChunk(size int64, maxChunks int) int64 {
	if maxChunks <= 0 {
		maxChunks = DefaultConfig().ResyncChunks
	}
	c := int64(64 << 10)
	for c < 64<<20 && (size+c-1)/c > int64(maxChunks) {
		c *= 2
	}
	return c
}

// resyncDisk hashes the frozen disk, has the hub compare it with the
// replica, and uploads the ranges that differ as the disk's resync
// object. Every step is repeatable: a new attempt hashes again under a
// new request id, and the agent returns the job it already has for the
// same ranges.
func (l *vmLoop) resyncDisk(ctx context.Context, epoch uint64, a replication.ResyncDisk) (replication.Event, error) {
	ra, cmp := l.d.deps.ResyncAgent, l.d.deps.Comparer
	if ra == nil || cmp == nil {
		return replication.FullCopyNeeded{Generation: a.Generation, Reason: "this host cannot compare chunks with the hub"}, nil
	}
	req, err := l.sendHashes(ctx, ra, cmp, a)
	if err != nil {
		return l.resyncErr(a, fmt.Errorf("hash disk %s: %w", a.DiskID, err))
	}
	wait := l.d.cfg.ResyncWait
	if wait <= 0 {
		wait = DefaultConfig().ResyncWait
	}
	cctx, cancel := context.WithTimeout(ctx, wait)
	ans, err := cmp.AwaitResync(cctx, req)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("resync of disk %s: hub comparison: %w", a.DiskID, err)
	}
	if ans.FullCopy {
		return replication.FullCopyNeeded{Generation: a.Generation, Reason: "the hub cannot compare the replica of disk " + a.DiskID}, nil
	}
	spec := agentclient.ResyncUpload{JobID: a.JobID, VMID: l.vmID, DiskID: a.DiskID, DiskPath: a.Frozen, Cycle: a.Cycle,
		Previous: a.Cycle - 1, Ranges: ans.Ranges, Target: ans.SAS.URL, Threads: a.Threads}
	if _, err := ra.StartResyncUpload(ctx, spec); err != nil {
		return l.resyncErr(a, err)
	}
	job, err := l.d.deps.Agent.WatchJob(ctx, a.JobID, func(j agentclient.Job) error {
		l.offer(item{ev: replication.CopyProgress{Generation: a.Generation, DiskID: a.DiskID, Done: j.BytesDone, Total: j.BytesTotal}, epoch: epoch})
		return nil
	})
	if err == nil && job.State != agentclient.JobSucceeded {
		err = fmt.Errorf("resync job %s ended %s: %w", a.JobID, job.State, job.Err)
	}
	if err != nil {
		return l.resyncErr(a, err)
	}
	l.log.Info("disk resynced", "disk_id", a.DiskID, "cycle", a.Cycle, "ranges", len(ans.Ranges),
		"bytes_differing", job.BytesTotal, "bytes_sent", job.BytesSent)
	return replication.CopyDone{Generation: a.Generation, DiskID: a.DiskID, Total: job.BytesSent, Object: ans.SAS.Blob}, nil
}

// sendHashes hashes the frozen disk on the agent and sends the hashes to
// the hub in pieces, under a fresh request id.
func (l *vmLoop) sendHashes(ctx context.Context, ra ResyncAgent, cmp Comparer, a replication.ResyncDisk) (ResyncRequest, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return ResyncRequest{}, err
	}
	req := ResyncRequest{VMID: l.vmID, DiskID: a.DiskID, RequestID: hex.EncodeToString(b[:])}
	chunk := resyncChunk(a.Size, l.d.cfg.ResyncChunks)
	_, err := ra.HashDisk(ctx, a.Frozen, chunk, func(first int64, hashes []string) error {
		for len(hashes) > 0 {
			n := min(len(hashes), hashesPerPiece)
			h := ResyncHashes{VMID: l.vmID, DiskID: a.DiskID, Cycle: a.Cycle, RequestID: req.RequestID,
				ChunkBytes: chunk, FirstChunk: first, SHA256: hashes[:n]}
			if err := cmp.SendResyncHashes(ctx, h); err != nil {
				return err
			}
			first, hashes = first+int64(n), hashes[n:]
		}
		return nil
	})
	return req, err
}

// resyncErr turns a lost source into SourceLost and keeps anything else a
// failure to retry.
func (l *vmLoop) resyncErr(a replication.ResyncDisk, err error) (replication.Event, error) {
	if sourceLost(err) {
		l.log.Warn("frozen disk unusable", "disk_id", a.DiskID, "error", err)
		return replication.SourceLost{Reason: fmt.Sprintf("resync of disk %s: %v", a.DiskID, err)}, nil
	}
	return nil, fmt.Errorf("resync of disk %s: %w", a.DiskID, err)
}
