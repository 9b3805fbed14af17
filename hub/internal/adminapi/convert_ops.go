package adminapi

import (
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// withReason builds a status with an ErrorInfo reason.
func withReason(code codes.Code, err error, reason adminv1.ErrorReason) error {
	st := status.New(code, err.Error())
	with, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: reason.String(), Domain: Domain})
	if derr != nil {
		return st.Err()
	}
	return with.Err()
}

// policyFromProto fills zero fields with the defaults.
func policyFromProto(p *adminv1.ReplicationPolicy) replication.Policy {
	out := replication.DefaultPolicy()
	if v := p.GetIntervalSeconds(); v != 0 {
		out.Interval = time.Duration(v) * time.Second
	}
	if v := p.GetThreads(); v != 0 {
		out.Threads = int(v)
	}
	if v := p.GetKeepLatest(); v != 0 {
		out.KeepLatest = int(v)
	}
	if p.GetLatestOnly() {
		out.KeepWindow, out.KeepInterval = 0, 0
	}
	if v := p.GetKeepWindowSeconds(); v != 0 {
		out.KeepWindow = time.Duration(v) * time.Second
	}
	if v := p.GetKeepIntervalSeconds(); v != 0 {
		out.KeepInterval = time.Duration(v) * time.Second
	}
	out.ExcludeDisks = p.GetExcludeDiskIds()
	return out
}

func vmStatusToProto(st replication.VMStatus) *adminv1.VmStatus {
	out := &adminv1.VmStatus{VmId: st.VMID, Name: st.Name, HostId: st.HostID, State: st.State,
		AppliedCycle: st.AppliedCycle, AppliedUnix: unixOrZero(st.AppliedAt), RpoSeconds: int64(st.RPO / time.Second),
		LatestReportedCycle: st.LatestReported, PendingBytes: st.PendingBytes, Health: st.Health,
		HealthMessage: st.HealthMessage, RecoveryPoints: uint32(st.Points), HostHealth: st.HostHealth.Status,
		HostHealthMessage: st.HostHealth.Message, IntervalSeconds: int64(st.Interval / time.Second), Migration: st.Migration}
	if !st.SwitchedAt.IsZero() {
		out.SwitchedUnixMs = st.SwitchedAt.UnixMilli()
	}
	for _, d := range st.Disks {
		out.Disks = append(out.Disks, &adminv1.DiskStatus{Id: d.DiskID, Name: d.Name, SizeBytes: uint64(d.SizeBytes),
			Phase: d.Phase, DoneBytes: d.DoneBytes, TotalBytes: d.TotalBytes, ProgressUnix: unixOrZero(d.ProgressAt)})
	}
	return out
}

func pointToProto(p state.RecoveryPoint) *adminv1.RecoveryPoint {
	out := &adminv1.RecoveryPoint{Cycle: p.Cycle, TakenUnix: unixOrZero(p.TakenAt),
		Consistency: recovery.Consistency(p.Consistency).String()}
	for _, d := range p.Disks {
		out.Disks = append(out.Disks, &adminv1.RecoveryPointDisk{DiskId: d.DiskID, Snapshot: d.Snapshot})
	}
	return out
}
