// Package hubclient is the provider's side of the hub: registration with a
// one-time key file (a locally generated key, a CSR, the hub pinned by its
// CA fingerprint), and a Link that keeps one mutual-TLS stream to the hub
// open, renews the host certificate before it expires, hands commands to a
// handler and acknowledges them, and delivers events at least once.
package hubclient

import (
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// Error classes the hub reports, told apart by their ErrorInfo reason.
var (
	ErrKeyUnknown       = errors.New("the hub does not know this registration key (a key for another hub?)")
	ErrKeyExpired       = errors.New("registration key expired")
	ErrKeyUsed          = errors.New("registration key already used by another host")
	ErrKeyRevoked       = errors.New("registration key revoked")
	ErrProjectMismatch  = errors.New("registration key belongs to another project")
	ErrCSRRejected      = errors.New("the hub rejected the certificate request")
	ErrHostRevoked      = errors.New("this host was revoked")
	ErrUnauthenticated  = errors.New("the hub did not accept this host's certificate")
	ErrForbidden        = errors.New("not this host's")
	ErrInvalid          = errors.New("the hub rejected a field")
	ErrProtocolMismatch = errors.New("hub protocol mismatch")
	// ErrNotRegistered means dir holds no identity yet.
	ErrNotRegistered = errors.New("host not registered")
)

func reasonErrors() map[hubv1.ErrorReason]error {
	return map[hubv1.ErrorReason]error{
		hubv1.ErrorReason_ERROR_REASON_KEY_UNKNOWN:       ErrKeyUnknown,
		hubv1.ErrorReason_ERROR_REASON_KEY_EXPIRED:       ErrKeyExpired,
		hubv1.ErrorReason_ERROR_REASON_KEY_REDEEMED:      ErrKeyUsed,
		hubv1.ErrorReason_ERROR_REASON_KEY_REVOKED:       ErrKeyRevoked,
		hubv1.ErrorReason_ERROR_REASON_PROJECT_MISMATCH:  ErrProjectMismatch,
		hubv1.ErrorReason_ERROR_REASON_CSR_INVALID:       ErrCSRRejected,
		hubv1.ErrorReason_ERROR_REASON_HOST_REVOKED:      ErrHostRevoked,
		hubv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED:   ErrUnauthenticated,
		hubv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED: ErrForbidden,
		hubv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT:  ErrInvalid,
		hubv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH: ErrProtocolMismatch,
	}
}

// reasonError maps a wire reason name to its class (nil if unknown).
func reasonError(reason string) error {
	for r, err := range reasonErrors() {
		if r.String() == reason {
			return err
		}
	}
	return nil
}

// fromStatus maps a hub status error back to an error class, keeping the
// hub's message.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		if class := reasonError(info.GetReason()); class != nil {
			return &HubError{Class: class, Message: st.Message(), Metadata: info.GetMetadata()}
		}
	}
	return fmt.Errorf("hub: %s: %s", st.Code(), st.Message())
}

// HubError is an error the hub classified.
type HubError struct {
	Class    error
	Message  string
	Metadata map[string]string
}

func (e *HubError) Error() string {
	if e.Message == "" {
		return e.Class.Error()
	}
	return e.Message
}

// Unwrap returns the class.
func (e *HubError) Unwrap() error { return e.Class }

// retryable reports whether a session error is worth a reconnect.
func retryable(err error) bool {
	if errors.Is(err, ErrHostRevoked) || errors.Is(err, ErrProtocolMismatch) || errors.Is(err, ErrNotRegistered) {
		return false
	}
	st, ok := status.FromError(err)
	return !ok || st.Code() != codes.Unauthenticated
}
