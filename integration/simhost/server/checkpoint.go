package server

import (
	"context"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/internal/wire"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// CreateCheckpoint creates a checkpoint.
func (s *Server) CreateCheckpoint(_ context.Context, r *simhostv1.CreateCheckpointRequest) (*simhostv1.CreateCheckpointResponse, error) {
	c, err := s.d.CreateCheckpoint(r.GetVmId(), simhost.CheckpointSpec{Name: r.GetName(), StartTracking: r.GetStartTracking()})
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.CreateCheckpointResponse{Checkpoint: wire.CheckpointToProto(c)}, nil
}

// DeleteCheckpoint merges the checkpoint away.
func (s *Server) DeleteCheckpoint(_ context.Context, r *simhostv1.DeleteCheckpointRequest) (*simhostv1.DeleteCheckpointResponse, error) {
	return &simhostv1.DeleteCheckpointResponse{}, wire.ToStatus(s.d.DeleteCheckpoint(r.GetVmId()))
}

// GetFrozenDisks returns the checkpoint's read-only parents.
func (s *Server) GetFrozenDisks(_ context.Context, r *simhostv1.GetFrozenDisksRequest) (*simhostv1.GetFrozenDisksResponse, error) {
	fs, err := s.d.GetFrozenDisks(r.GetVmId())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.GetFrozenDisksResponse{Disks: wire.FrozenToProto(fs)}, nil
}

// StartTracking starts change tracking.
func (s *Server) StartTracking(_ context.Context, r *simhostv1.StartTrackingRequest) (*simhostv1.StartTrackingResponse, error) {
	t, err := s.d.StartTracking(r.GetVmId())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.StartTrackingResponse{Tracking: wire.TrackingToProto(t)}, nil
}

// StopTracking stops change tracking.
func (s *Server) StopTracking(_ context.Context, r *simhostv1.StopTrackingRequest) (*simhostv1.StopTrackingResponse, error) {
	return &simhostv1.StopTrackingResponse{}, wire.ToStatus(s.d.StopTracking(r.GetVmId(), r.GetRemoveLogs()))
}

// SwitchLogs switches the logs of every disk of a VM.
func (s *Server) SwitchLogs(_ context.Context, r *simhostv1.SwitchLogsRequest) (*simhostv1.SwitchLogsResponse, error) {
	res, err := s.d.SwitchLogs(r.GetVmId())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return wire.SwitchToProto(res), nil
}

// ChecksumDisks hashes every disk now.
func (s *Server) ChecksumDisks(_ context.Context, r *simhostv1.ChecksumDisksRequest) (*simhostv1.ChecksumDisksResponse, error) {
	cs, err := s.d.ChecksumDisks(r.GetVmId())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.ChecksumDisksResponse{Checksums: wire.ChecksumsToProto(cs)}, nil
}

// GetSwitchChecksums returns the checksums recorded at a switch.
func (s *Server) GetSwitchChecksums(_ context.Context, r *simhostv1.GetSwitchChecksumsRequest) (*simhostv1.GetSwitchChecksumsResponse, error) {
	cs, err := s.d.GetSwitchChecksums(r.GetVmId(), r.GetSwitchNumber())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.GetSwitchChecksumsResponse{Checksums: wire.ChecksumsToProto(cs)}, nil
}

// ClearResync lowers the needs-resync flag.
func (s *Server) ClearResync(_ context.Context, r *simhostv1.ClearResyncRequest) (*simhostv1.ClearResyncResponse, error) {
	return &simhostv1.ClearResyncResponse{}, wire.ToStatus(s.d.ClearResync(r.GetVmId()))
}

// ReleaseLogs deletes closed logs a switch handed out.
func (s *Server) ReleaseLogs(_ context.Context, r *simhostv1.ReleaseLogsRequest) (*simhostv1.ReleaseLogsResponse, error) {
	n, err := s.d.ReleaseLogs(r.GetVmId(), r.GetPaths())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.ReleaseLogsResponse{Deleted: uint32(n)}, nil
}

// GetSwitch returns what an earlier switch handed out.
func (s *Server) GetSwitch(_ context.Context, r *simhostv1.GetSwitchRequest) (*simhostv1.GetSwitchResponse, error) {
	res, err := s.d.GetSwitch(r.GetVmId(), r.GetSwitchNumber())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.GetSwitchResponse{Switch: wire.SwitchToProto(res)}, nil
}
