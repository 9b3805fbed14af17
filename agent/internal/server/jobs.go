package server

import (
	"context"
	"time"

	"hvmigrate/agent/internal/jobs"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/secret"
)

// watchInterval is how often WatchJob reports a running job.
const watchInterval = 500 * time.Millisecond

// StartInitialCopy starts or returns a copy job.
func (s *Server) StartInitialCopy(_ context.Context, req *agentv1.StartInitialCopyRequest) (*agentv1.StartInitialCopyResponse, error) {
	info, err := s.jobs.StartInitialCopy(req.GetJobId(), jobs.InitialCopy{
		VMID:     req.GetVmId(),
		DiskID:   req.GetDiskId(),
		DiskPath: req.GetDiskPath(),
		Target:   secret.New(req.GetTargetUrl()),
		Threads:  int(req.GetThreads()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.StartInitialCopyResponse{Job: toProgress(info)}, nil
}

// StartCycleUpload starts or returns a cycle upload job.
func (s *Server) StartCycleUpload(_ context.Context, req *agentv1.StartCycleUploadRequest) (*agentv1.StartCycleUploadResponse, error) {
	spec := jobs.CycleUpload{
		VMID:     req.GetVmId(),
		Cycle:    req.GetCycle(),
		Previous: req.GetPreviousCycle(),
		Threads:  int(req.GetThreads()),
	}
	for _, d := range req.GetDisks() {
		spec.Disks = append(spec.Disks, jobs.CycleDisk{
			DiskID:      d.GetDiskId(),
			Logs:        d.GetLogPaths(),
			VirtualSize: int64(d.GetVirtualSize()),
			Target:      secret.New(d.GetTargetUrl()),
		})
	}
	info, err := s.jobs.StartCycleUpload(req.GetJobId(), spec)
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.StartCycleUploadResponse{Job: toProgress(info)}, nil
}

// WatchJob streams a job's progress until it ends.
func (s *Server) WatchJob(req *agentv1.WatchJobRequest, stream agentv1.AgentService_WatchJobServer) error {
	err := s.jobs.Watch(stream.Context(), req.GetJobId(), watchInterval, func(info jobs.Info) error {
		return stream.Send(&agentv1.WatchJobResponse{Job: toProgress(info)})
	})
	if err != nil {
		return toStatus(err)
	}
	return nil
}

// CancelJob stops a job.
func (s *Server) CancelJob(_ context.Context, req *agentv1.CancelJobRequest) (*agentv1.CancelJobResponse, error) {
	info, err := s.jobs.Cancel(req.GetJobId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.CancelJobResponse{Job: toProgress(info)}, nil
}

// ListJobs lists the known jobs.
func (s *Server) ListJobs(_ context.Context, req *agentv1.ListJobsRequest) (*agentv1.ListJobsResponse, error) {
	resp := &agentv1.ListJobsResponse{}
	for _, info := range s.jobs.List(req.GetVmId()) {
		resp.Jobs = append(resp.Jobs, toProgress(info))
	}
	return resp, nil
}

func toProgress(info jobs.Info) *agentv1.JobProgress {
	p := info.Progress
	out := &agentv1.JobProgress{
		JobId:                 info.ID,
		Kind:                  toKind(info.Kind),
		State:                 toState(info.State),
		VmId:                  info.VMID,
		Cycle:                 info.Cycle,
		BytesTotal:            uint64(max(p.Total, 0)),
		BytesDone:             uint64(max(p.Done, 0)),
		BytesSkipped:          uint64(max(p.Skipped, 0)),
		BytesSent:             uint64(max(p.Sent, 0)),
		BytesSavedCoalescing:  uint64(max(p.SavedCoalescing, 0)),
		BytesSavedCompression: uint64(max(p.SavedCompression, 0)),
		RateBytesPerSecond:    uint64(max(p.Rate, 0)),
		EtaSeconds:            -1,
		Retries:               uint64(max(p.Retries, 0)),
		StartedUnix:           info.Started.Unix(),
		UpdatedUnix:           info.Updated.Unix(),
	}
	if p.ETA >= 0 {
		out.EtaSeconds = int64(p.ETA.Seconds())
	}
	if info.Err != nil {
		out.Error = info.Err.Error()
		out.ErrorReason = reasonOf(info.Err)
	}
	return out
}

func toKind(k jobs.Kind) agentv1.JobKind {
	switch k {
	case jobs.KindInitialCopy:
		return agentv1.JobKind_JOB_KIND_INITIAL_COPY
	case jobs.KindCycleUpload:
		return agentv1.JobKind_JOB_KIND_CYCLE_UPLOAD
	case jobs.KindResyncUpload:
		return agentv1.JobKind_JOB_KIND_RESYNC_UPLOAD
	}
	return agentv1.JobKind_JOB_KIND_UNSPECIFIED
}

func toState(s jobs.State) agentv1.JobState {
	switch s {
	case jobs.StateQueued:
		return agentv1.JobState_JOB_STATE_QUEUED
	case jobs.StateRunning:
		return agentv1.JobState_JOB_STATE_RUNNING
	case jobs.StateSucceeded:
		return agentv1.JobState_JOB_STATE_SUCCEEDED
	case jobs.StateFailed:
		return agentv1.JobState_JOB_STATE_FAILED
	case jobs.StateCancelled:
		return agentv1.JobState_JOB_STATE_CANCELLED
	}
	return agentv1.JobState_JOB_STATE_UNSPECIFIED
}

// StartResyncUpload starts or returns a resync upload job.
func (s *Server) StartResyncUpload(_ context.Context, req *agentv1.StartResyncUploadRequest) (*agentv1.StartResyncUploadResponse, error) {
	spec := jobs.ResyncUpload{
		VMID:     req.GetVmId(),
		DiskID:   req.GetDiskId(),
		DiskPath: req.GetDiskPath(),
		Cycle:    req.GetCycle(),
		Previous: req.GetPreviousCycle(),
		Target:   secret.New(req.GetTargetUrl()),
		Threads:  int(req.GetThreads()),
	}
	for _, g := range req.GetRanges() {
		spec.Ranges = append(spec.Ranges, jobs.Range{Offset: int64(min(g.GetOffset(), 1<<62)),
			Length: int64(min(g.GetLength(), 1<<62)), Zero: g.GetZero()})
	}
	info, err := s.jobs.StartResyncUpload(req.GetJobId(), spec)
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.StartResyncUploadResponse{Job: toProgress(info)}, nil
}
