// Package rpcstatus maps the hub's error classes to gRPC status codes with
// a google.rpc.ErrorInfo whose reason is a hubv1.ErrorReason name, so the
// provider tells "key expired" from "key used" without matching text.
package rpcstatus

import (
	"context"
	"errors"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/state"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// Domain is the ErrorInfo domain of hub errors on the provider listener.
const Domain = "hub.hvmigrate"

// Sentinels of the provider wire itself.
var (
	// ErrUnauthenticated means the call carries no valid host certificate.
	ErrUnauthenticated = errors.New("a client certificate issued by this hub is required")
	// ErrProtocolMismatch means the provider speaks another stream protocol.
	ErrProtocolMismatch = errors.New("hub protocol mismatch")
	// ErrInvalidMessage means a message from the provider is malformed.
	ErrInvalidMessage = errors.New("invalid message")
)

type class struct {
	err    error
	code   codes.Code
	reason hubv1.ErrorReason
}

// classes lists the hub's error classes, checked in order; the first match wins.
func classes() []class {
	return []class{
		{state.ErrKeyUnknown, codes.NotFound, hubv1.ErrorReason_ERROR_REASON_KEY_UNKNOWN},
		{state.ErrKeyExpired, codes.FailedPrecondition, hubv1.ErrorReason_ERROR_REASON_KEY_EXPIRED},
		{state.ErrKeyRedeemed, codes.AlreadyExists, hubv1.ErrorReason_ERROR_REASON_KEY_REDEEMED},
		{state.ErrKeyRevoked, codes.FailedPrecondition, hubv1.ErrorReason_ERROR_REASON_KEY_REVOKED},
		{state.ErrProjectMismatch, codes.FailedPrecondition, hubv1.ErrorReason_ERROR_REASON_PROJECT_MISMATCH},
		{state.ErrHostRevoked, codes.PermissionDenied, hubv1.ErrorReason_ERROR_REASON_HOST_REVOKED},
		{state.ErrForbidden, codes.PermissionDenied, hubv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED},
		{ca.ErrCSRInvalid, codes.InvalidArgument, hubv1.ErrorReason_ERROR_REASON_CSR_INVALID},
		{registry.ErrInvalid, codes.InvalidArgument, hubv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT},
		{ErrUnauthenticated, codes.Unauthenticated, hubv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED},
		{ErrProtocolMismatch, codes.FailedPrecondition, hubv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH},
		{ErrInvalidMessage, codes.InvalidArgument, hubv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT},
	}
}

// Reason classifies err; UNSPECIFIED when it is none of the hub's classes.
func Reason(err error) hubv1.ErrorReason {
	for _, c := range classes() {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return hubv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}

// ToStatus converts err to a gRPC status error with an ErrorInfo reason.
// Unclassified errors become Internal with a generic message, so nothing
// of the hub's internals reaches the provider.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if lerr := (*registry.LimitError)(nil); errors.As(err, &lerr) {
		return rateLimited(lerr)
	}
	for _, c := range classes() {
		if errors.Is(err, c.err) {
			return withInfo(status.New(c.code, err.Error()), c.reason, metadata(err))
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, "internal error on the hub; see the hub log")
}

func metadata(err error) map[string]string {
	var kerr *state.KeyError
	if !errors.As(err, &kerr) {
		return nil
	}
	m := map[string]string{"key_id": kerr.KeyID, "project_id": kerr.ProjectID}
	if !kerr.ExpiresAt.IsZero() {
		m["expired_at"] = kerr.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return m
}

func withInfo(st *status.Status, reason hubv1.ErrorReason, meta map[string]string) error {
	out, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason.String(), Domain: Domain, Metadata: meta})
	if err != nil {
		return st.Err()
	}
	return out.Err()
}

// rateLimited is ResourceExhausted with the delay in a RetryInfo and the
// time in the message.
func rateLimited(lerr *registry.LimitError) error {
	st := status.New(codes.ResourceExhausted, lerr.Error())
	out, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(lerr.RetryAfter)})
	if err != nil {
		return st.Err()
	}
	return out.Err()
}
