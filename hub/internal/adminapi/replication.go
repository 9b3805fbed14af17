package adminapi

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/codes"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// ErrNoStorage means replication calls came before a storage account was
// configured.
var ErrNoStorage = errors.New("the hub has no storage account; run hvm-hub storage set and restart it")

// Operations is the replication service the admin API delegates to.
type Operations interface {
	Enable(ctx context.Context, vm string, p replication.Policy) (state.Replication, error)
	Disable(ctx context.Context, vm string) (state.Replication, error)
	Resync(ctx context.Context, vm string) (state.Replication, error)
	Status(ctx context.Context, vm string) ([]replication.VMStatus, error)
	Points(ctx context.Context, vm string) ([]state.RecoveryPoint, error)
	TestMigrate(ctx context.Context, vm string, point uint64) (replication.TestRun, error)
	CleanupTestMigration(ctx context.Context, vm string) (int, error)
	Migrate(ctx context.Context, vm string, shutdown bool) (replication.Migration, error)
	Changed() <-chan struct{}
}

// SetOperations attaches the replication service.
func (s *Server) SetOperations(ops Operations) { s.ops = ops }

func (s *Server) operations() (Operations, error) {
	if s.ops == nil {
		return nil, opsStatus(ErrNoStorage)
	}
	return s.ops, nil
}

// EnableReplication starts replicating a VM.
func (s *Server) EnableReplication(ctx context.Context, req *adminv1.EnableReplicationRequest) (*adminv1.EnableReplicationResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	r, err := ops.Enable(ctx, req.GetVm(), policyFromProto(req.GetPolicy()))
	if err != nil {
		return nil, opsStatus(err)
	}
	s.log.Info("replication enabled", "vm_id", r.VMID)
	st, err := s.oneStatus(ctx, ops, r.VMID)
	return &adminv1.EnableReplicationResponse{Status: st}, err
}

// DisableReplication stops replicating a VM.
func (s *Server) DisableReplication(ctx context.Context, req *adminv1.DisableReplicationRequest) (*adminv1.DisableReplicationResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	r, err := ops.Disable(ctx, req.GetVm())
	if err != nil {
		return nil, opsStatus(err)
	}
	st, err := s.oneStatus(ctx, ops, r.VMID)
	return &adminv1.DisableReplicationResponse{Status: st}, err
}

// ResyncVm queues a resync.
func (s *Server) ResyncVm(ctx context.Context, req *adminv1.ResyncVmRequest) (*adminv1.ResyncVmResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	r, err := ops.Resync(ctx, req.GetVm())
	if err != nil {
		return nil, opsStatus(err)
	}
	st, err := s.oneStatus(ctx, ops, r.VMID)
	return &adminv1.ResyncVmResponse{Status: st}, err
}

// GetStatus reports replicated VMs.
func (s *Server) GetStatus(ctx context.Context, req *adminv1.GetStatusRequest) (*adminv1.GetStatusResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	vms, err := statusList(ctx, ops, req.GetVm())
	if err != nil {
		return nil, err
	}
	return &adminv1.GetStatusResponse{Vms: vms}, nil
}

// WatchStatus streams the status after every change, at most every
// quarter second, until the caller goes away.
func (s *Server) WatchStatus(req *adminv1.WatchStatusRequest, ws adminv1.AdminService_WatchStatusServer) error {
	ops, err := s.operations()
	if err != nil {
		return err
	}
	ctx := ws.Context()
	for {
		changed := ops.Changed()
		vms, err := statusList(ctx, ops, req.GetVm())
		if err != nil {
			return err
		}
		if err := ws.Send(&adminv1.WatchStatusResponse{Vms: vms}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-time.After(5 * time.Second): // RPO ages even without events
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ListRecoveryPoints lists a VM's recovery points.
func (s *Server) ListRecoveryPoints(ctx context.Context, req *adminv1.ListRecoveryPointsRequest) (*adminv1.ListRecoveryPointsResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	points, err := ops.Points(ctx, req.GetVm())
	if err != nil {
		return nil, opsStatus(err)
	}
	out := &adminv1.ListRecoveryPointsResponse{}
	for _, p := range points {
		out.Points = append(out.Points, pointToProto(p))
	}
	return out, nil
}

func statusList(ctx context.Context, ops Operations, vm string) ([]*adminv1.VmStatus, error) {
	sts, err := ops.Status(ctx, vm)
	if err != nil {
		return nil, opsStatus(err)
	}
	out := make([]*adminv1.VmStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, vmStatusToProto(st))
	}
	return out, nil
}

func (s *Server) oneStatus(ctx context.Context, ops Operations, vmID string) (*adminv1.VmStatus, error) {
	vms, err := statusList(ctx, ops, vmID)
	if err != nil || len(vms) == 0 {
		return nil, err
	}
	return vms[0], nil
}

// opsStatus maps the replication service's errors.
func opsStatus(err error) error {
	switch {
	case errors.Is(err, replication.ErrInvalid):
		return withReason(codes.InvalidArgument, err, adminv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT)
	case errors.Is(err, replication.ErrState):
		return withReason(codes.FailedPrecondition, err, adminv1.ErrorReason_ERROR_REASON_VM_STATE)
	case errors.Is(err, state.ErrExists):
		return withReason(codes.AlreadyExists, err, adminv1.ErrorReason_ERROR_REASON_VM_REPLICATED)
	case errors.Is(err, ErrNoStorage):
		return withReason(codes.FailedPrecondition, err, adminv1.ErrorReason_ERROR_REASON_STORAGE_NOT_CONFIGURED)
	}
	return toStatus(err, adminv1.ErrorReason_ERROR_REASON_VM_NOT_FOUND)
}

// TestMigrateVm runs (or finishes) a test migration.
func (s *Server) TestMigrateVm(ctx context.Context, req *adminv1.TestMigrateVmRequest) (*adminv1.TestMigrateVmResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	run, err := ops.TestMigrate(ctx, req.GetVm(), req.GetPoint())
	if err != nil {
		return nil, opsStatus(err)
	}
	s.log.Info("test migration ready", "vm_id", run.VMID, "run", run.ID, "point", run.Point)
	return &adminv1.TestMigrateVmResponse{RunId: run.ID, Point: run.Point, Container: run.Container, Blobs: run.Blobs}, nil
}

// CleanupTestMigration deletes a VM's test migrations.
func (s *Server) CleanupTestMigration(ctx context.Context, req *adminv1.CleanupTestMigrationRequest) (*adminv1.CleanupTestMigrationResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	n, err := ops.CleanupTestMigration(ctx, req.GetVm())
	if err != nil {
		return nil, opsStatus(err)
	}
	return &adminv1.CleanupTestMigrationResponse{DeletedBlobs: uint32(n)}, nil
}
