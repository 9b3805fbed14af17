package wire

import (
	"context"
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hvmigrate/integration/simhost"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// ErrorDomain is the ErrorInfo domain of simhost errors.
const ErrorDomain = "simhost.hvmigrate"

// ErrUnavailable means the daemon could not be reached.
var ErrUnavailable = errors.New("simhost unavailable")

// class ties a daemon error class to its gRPC code and reason.
type class struct {
	err    error
	code   codes.Code
	reason simhostv1.ErrorReason
}

// classes lists every daemon error class with its code and reason.
func classes() []class {
	return []class{
		{simhost.ErrNotFound, codes.NotFound, simhostv1.ErrorReason_ERROR_REASON_NOT_FOUND},
		{simhost.ErrInvalid, codes.InvalidArgument, simhostv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT},
		{simhost.ErrOutOfRange, codes.OutOfRange, simhostv1.ErrorReason_ERROR_REASON_OUT_OF_RANGE},
		{simhost.ErrNotRunning, codes.FailedPrecondition, simhostv1.ErrorReason_ERROR_REASON_VM_NOT_RUNNING},
		{simhost.ErrRunning, codes.FailedPrecondition, simhostv1.ErrorReason_ERROR_REASON_VM_RUNNING},
		{simhost.ErrCheckpointExists, codes.AlreadyExists, simhostv1.ErrorReason_ERROR_REASON_CHECKPOINT_EXISTS},
		{simhost.ErrNoCheckpoint, codes.FailedPrecondition, simhostv1.ErrorReason_ERROR_REASON_NO_CHECKPOINT},
		{simhost.ErrTrackingOff, codes.FailedPrecondition, simhostv1.ErrorReason_ERROR_REASON_TRACKING_OFF},
		{simhost.ErrTrackingOn, codes.AlreadyExists, simhostv1.ErrorReason_ERROR_REASON_TRACKING_ON},
		{simhost.ErrUnsupported, codes.FailedPrecondition, simhostv1.ErrorReason_ERROR_REASON_UNSUPPORTED},
		{simhost.ErrClosed, codes.Unavailable, simhostv1.ErrorReason_ERROR_REASON_SHUTTING_DOWN},
	}
}

// ToStatus maps a daemon error to a gRPC status with an ErrorInfo reason.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	for _, c := range classes() {
		if errors.Is(err, c.err) {
			st := status.New(c.code, err.Error())
			if withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: c.reason.String(), Domain: ErrorDomain}); derr == nil {
				return withInfo.Err()
			}
			return st.Err()
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// remoteError is a daemon error received over the wire: the daemon's
// message, and its class for errors.Is.
type remoteError struct {
	msg   string
	class error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.class }

// FromStatus maps a gRPC error back to the daemon's error classes (and
// context errors, and ErrUnavailable), keeping the daemon's message.
func FromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok || err == nil {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != ErrorDomain {
			continue
		}
		for _, c := range classes() {
			if c.reason.String() == info.GetReason() {
				return &remoteError{msg: st.Message(), class: c.err}
			}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return &remoteError{msg: st.Message(), class: context.Canceled}
	case codes.DeadlineExceeded:
		return &remoteError{msg: st.Message(), class: context.DeadlineExceeded}
	case codes.Unavailable:
		return &remoteError{msg: "simhost unavailable: " + st.Message(), class: ErrUnavailable}
	}
	return &remoteError{msg: "simhost: " + st.Code().String() + ": " + st.Message()}
}
