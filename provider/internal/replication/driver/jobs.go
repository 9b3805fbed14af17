package driver

import (
	"context"
	"errors"
	"fmt"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/replication"
)

// findJob returns the agent's job with id, if the agent knows it.
func (l *vmLoop) findJob(ctx context.Context, id string) (agentclient.Job, bool, error) {
	jobs, err := l.d.deps.Agent.ListJobs(ctx, l.vmID)
	if err != nil {
		return agentclient.Job{}, false, fmt.Errorf("list jobs: %w", err)
	}
	for _, j := range jobs {
		if j.ID == id {
			return j, true, nil
		}
	}
	return agentclient.Job{}, false, nil
}

// attachable reports whether a known job can be watched as it is, rather
// than started again (with a fresh SAS).
func attachable(j agentclient.Job) bool {
	return j.State == agentclient.JobQueued || j.State == agentclient.JobRunning || j.State == agentclient.JobSucceeded
}

// sourceLost reports whether a job failed because its source is unusable.
func sourceLost(err error) bool {
	return errors.Is(err, agentclient.ErrSourceMissing) || errors.Is(err, agentclient.ErrSourceCorrupt)
}

// copyDisk re-attaches to the disk's copy job if the agent has it, or
// starts it, and watches it to the end.
func (l *vmLoop) copyDisk(ctx context.Context, epoch uint64, a replication.CopyDisk) (replication.Event, error) {
	var sas SAS
	err := l.call(ctx, func(ctx context.Context) (err error) {
		sas, err = l.d.deps.Hub.RequestSAS(ctx, SASRequest{VMID: l.vmID, DiskID: a.DiskID, Kind: BlobReplica, Generation: a.Generation})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sas for disk %s: %w", a.DiskID, err)
	}
	job, known, err := l.findJob(ctx, a.JobID)
	if err != nil {
		return nil, err
	}
	if known && attachable(job) {
		l.log.Info("re-attaching to copy job", "job_id", a.JobID, "state", job.State)
	} else {
		spec := agentclient.InitialCopy{JobID: a.JobID, VMID: l.vmID, DiskID: a.DiskID, DiskPath: a.Frozen, Target: sas.URL, Threads: a.Threads}
		if _, err := l.d.deps.Agent.StartInitialCopy(ctx, spec); err != nil {
			return l.copyErr(a, err)
		}
	}
	job, err = l.d.deps.Agent.WatchJob(ctx, a.JobID, func(j agentclient.Job) error {
		ev := replication.CopyProgress{Generation: a.Generation, DiskID: a.DiskID, Done: j.BytesDone, Total: j.BytesTotal}
		l.offer(item{ev: ev, epoch: epoch})
		return nil
	})
	if err == nil && job.State != agentclient.JobSucceeded {
		err = fmt.Errorf("copy job %s ended %s: %w", a.JobID, job.State, job.Err)
	}
	if err != nil {
		return l.copyErr(a, err)
	}
	return replication.CopyDone{Generation: a.Generation, DiskID: a.DiskID, Total: job.BytesTotal, Object: sas.Blob}, nil
}

// copyErr turns a lost source into SourceLost and keeps anything else a
// failure to retry.
func (l *vmLoop) copyErr(a replication.CopyDisk, err error) (replication.Event, error) {
	if sourceLost(err) {
		l.log.Warn("frozen disk unusable", "disk_id", a.DiskID, "error", err)
		return replication.SourceLost{Reason: fmt.Sprintf("copy of disk %s: %v", a.DiskID, err)}, nil
	}
	return nil, fmt.Errorf("copy of disk %s: %w", a.DiskID, err)
}

// uploadCycle re-attaches to or starts the cycle's upload job and watches
// it to the end.
func (l *vmLoop) uploadCycle(ctx context.Context, a replication.UploadCycle) (replication.Event, error) {
	spec := agentclient.CycleUpload{JobID: a.JobID, VMID: l.vmID, Cycle: a.Cycle.Number, Previous: a.Cycle.Previous, Threads: a.Threads}
	up := replication.Uploaded{Cycle: a.Cycle.Number}
	for _, d := range a.Cycle.Disks {
		var sas SAS
		err := l.call(ctx, func(ctx context.Context) (err error) {
			sas, err = l.d.deps.Hub.RequestSAS(ctx, SASRequest{VMID: l.vmID, DiskID: d.ID, Kind: BlobDelta, Cycle: a.Cycle.Number})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("sas for cycle %d disk %s: %w", a.Cycle.Number, d.ID, err)
		}
		spec.Disks = append(spec.Disks, agentclient.CycleDisk{DiskID: d.ID, Logs: d.Logs, VirtualSize: a.Sizes[d.ID], Target: sas.URL})
		up.Disks = append(up.Disks, replication.UploadedDisk{ID: d.ID, Object: sas.Blob})
	}
	job, known, err := l.findJob(ctx, a.JobID)
	if err != nil {
		return nil, err
	}
	if !known || !attachable(job) {
		if _, err := l.d.deps.Agent.StartCycleUpload(ctx, spec); err != nil {
			return l.cycleErr(a, err)
		}
	}
	job, err = l.d.deps.Agent.WatchJob(ctx, a.JobID, nil)
	if err == nil && job.State != agentclient.JobSucceeded {
		err = fmt.Errorf("upload job %s ended %s: %w", a.JobID, job.State, job.Err)
	}
	if err != nil {
		return l.cycleErr(a, err)
	}
	return up, nil
}

// cycleErr turns a lost source into SourceLost and keeps anything else a
// failure to retry.
func (l *vmLoop) cycleErr(a replication.UploadCycle, err error) (replication.Event, error) {
	if sourceLost(err) {
		l.log.Warn("cycle source unusable; resyncing", "cycle", a.Cycle.Number, "error", err)
		return replication.SourceLost{Reason: fmt.Sprintf("cycle %d: %v", a.Cycle.Number, err)}, nil
	}
	return nil, fmt.Errorf("upload cycle %d: %w", a.Cycle.Number, err)
}
