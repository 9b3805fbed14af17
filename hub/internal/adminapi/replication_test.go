package adminapi

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

func TestOpsStatus_mapsClasses(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		reason adminv1.ErrorReason
	}{
		{"invalid", fmt.Errorf("x: %w", replication.ErrInvalid), codes.InvalidArgument, adminv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT},
		{"state", fmt.Errorf("x: %w", replication.ErrState), codes.FailedPrecondition, adminv1.ErrorReason_ERROR_REASON_VM_STATE},
		{"exists", fmt.Errorf("x: %w", state.ErrExists), codes.AlreadyExists, adminv1.ErrorReason_ERROR_REASON_VM_REPLICATED},
		{"not found", fmt.Errorf("x: %w", state.ErrNotFound), codes.NotFound, adminv1.ErrorReason_ERROR_REASON_VM_NOT_FOUND},
		{"no storage", ErrNoStorage, codes.FailedPrecondition, adminv1.ErrorReason_ERROR_REASON_STORAGE_NOT_CONFIGURED},
		{"other", errors.New("boom"), codes.Internal, adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := status.FromError(opsStatus(tt.err))
			if st.Code() != tt.code {
				t.Fatalf("code = %s, want %s", st.Code(), tt.code)
			}
			got := adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					got = adminv1.ErrorReason(adminv1.ErrorReason_value[info.GetReason()])
				}
			}
			if got != tt.reason {
				t.Fatalf("reason = %s, want %s", got, tt.reason)
			}
		})
	}
}

func TestServer_replicationWithoutStorage(t *testing.T) {
	s := &Server{}
	_, err := s.GetStatus(t.Context(), &adminv1.GetStatusRequest{})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("GetStatus without storage: %v", err)
	}
}
