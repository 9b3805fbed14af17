package adminapi

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"hvmigrate/hub/internal/replication"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// MigrateVm starts or continues a migration.
func (s *Server) MigrateVm(ctx context.Context, req *adminv1.MigrateVmRequest) (*adminv1.MigrateVmResponse, error) {
	ops, err := s.operations()
	if err != nil {
		return nil, err
	}
	m, err := ops.Migrate(ctx, req.GetVm(), !req.GetNoShutdown())
	if errors.Is(err, replication.ErrVerify) {
		return nil, withReason(codes.FailedPrecondition, err, adminv1.ErrorReason_ERROR_REASON_VERIFY_FAILED)
	}
	if err != nil {
		return nil, opsStatus(err)
	}
	if m.Step == replication.StepDone {
		s.log.Info("vm migrated", "vm_id", m.VMID, "final_cycle", m.FinalCycle)
	}
	ctr := ""
	if len(m.Definition.Disks) > 0 {
		ctr = containerOf(m.Definition.Disks[0].BlobURL, m.Blobs)
	}
	return &adminv1.MigrateVmResponse{Step: m.Step, Waiting: m.Waiting, FinalCycle: m.FinalCycle,
		Message: m.Message, Container: ctr, Blobs: m.Blobs}, nil
}

// containerOf finds the container in a blob URL whose tail is one of blobs.
func containerOf(url string, blobs []string) string {
	for _, b := range blobs {
		if n := len(url) - len(b) - 1; n > 0 && url[n+1:] == b {
			head := url[:n]
			for i := len(head) - 1; i >= 0; i-- {
				if head[i] == '/' {
					return head[i+1:]
				}
			}
		}
	}
	return ""
}
