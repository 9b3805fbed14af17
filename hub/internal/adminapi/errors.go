package adminapi

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/state"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// Domain is the ErrorInfo domain of admin errors.
const Domain = "admin.hvmigrate"

// ErrNotAdmin means the caller's certificate is not the admin credential.
var ErrNotAdmin = errors.New("the admin credential is required")

// toStatus maps err to a status; notFound is the reason a state.ErrNotFound
// gets in this call.
func toStatus(err error, notFound adminv1.ErrorReason) error {
	code, reason := codes.Internal, adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED
	switch {
	case errors.Is(err, registry.ErrInvalid):
		code, reason = codes.InvalidArgument, adminv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT
	case errors.Is(err, state.ErrNotFound):
		code, reason = codes.NotFound, notFound
	case errors.Is(err, state.ErrExists):
		code, reason = codes.AlreadyExists, adminv1.ErrorReason_ERROR_REASON_PROJECT_EXISTS
	case errors.Is(err, ErrNotAdmin):
		code, reason = codes.PermissionDenied, adminv1.ErrorReason_ERROR_REASON_NOT_ADMIN
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	st := status.New(code, err.Error())
	if reason == adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		return st.Err()
	}
	with, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: reason.String(), Domain: Domain})
	if derr != nil {
		return st.Err()
	}
	return with.Err()
}

// checkAdmin accepts only a verified client certificate of the admin OU.
// The listener's TLS layer already requires a certificate from the admin
// CA; this is the per-call second check.
func checkAdmin(ctx context.Context) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ErrNotAdmin
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return ErrNotAdmin
	}
	leaf := info.State.VerifiedChains[0][0]
	if !slices.Contains(leaf.Subject.OrganizationalUnit, ca.AdminOU) {
		return ErrNotAdmin
	}
	return nil
}

// UnaryInterceptor refuses every call without the admin identity.
func UnaryInterceptor(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if err := checkAdmin(ctx); err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED)
	}
	return next(ctx, req)
}
