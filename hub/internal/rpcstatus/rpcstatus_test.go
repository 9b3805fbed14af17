package rpcstatus_test

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/rpcstatus"
)

func TestToStatus_rateLimited(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	err := rpcstatus.ToStatus(&registry.LimitError{Scope: "address", RetryAfter: 6 * time.Second, RetryAt: at})
	st, _ := status.FromError(err)
	if st.Code() != codes.ResourceExhausted || !strings.Contains(st.Message(), "retry after 2026-01-02T03:04:05Z") {
		t.Fatalf("status = %v %q", st.Code(), st.Message())
	}
	var delay time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	if delay != 6*time.Second {
		t.Fatalf("retry delay %v, want 6s", delay)
	}
}
