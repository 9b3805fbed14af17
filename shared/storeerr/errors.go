// Package storeerr is the error model of blob storage shared by the agent
// and the hub: the error classes callers decide on, the Error type a failed
// request becomes, redaction of SAS signatures and keys from error text, and
// the classification of Azure SDK errors into those classes.
package storeerr

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error classes. Every error a store returns for a failed request matches
// one of them with errors.Is, so callers decide without matching strings.
var (
	// ErrNotFound: the blob, snapshot or container does not exist.
	ErrNotFound = errors.New("blob not found")
	// ErrExists: a blob or container that must be new exists, or a blob
	// exists with another type, size or content.
	ErrExists = errors.New("blob already exists")
	// ErrConditionNotMet: a precondition failed (412: ETag, sequence
	// number), or a 409 state conflict that is not an "exists".
	ErrConditionNotMet = errors.New("condition not met")
	// ErrThrottled: the service is busy (503 ServerBusy, 429, 500
	// OperationTimedOut); retry after a delay.
	ErrThrottled = errors.New("throttled by storage")
	// ErrTransient: a timeout, reset or 5xx that may succeed on retry; the
	// request may or may not have been applied.
	ErrTransient = errors.New("transient storage failure")
	// ErrChecksum: the service received bytes that do not match the CRC.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrDenied: the credential or SAS does not allow the operation, or has
	// expired, or the request was not for the configured endpoint.
	ErrDenied = errors.New("access denied")
	// ErrInvalid: the request is malformed (alignment, size, range, name).
	ErrInvalid = errors.New("invalid request")
)

// Retryable reports whether err is worth another try.
func Retryable(err error) bool {
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrTransient) || errors.Is(err, ErrChecksum)
}

// Error is a failed storage operation. Its text never holds a URL query or
// a key: implementations build it from redacted text only.
type Error struct {
	Op         string        // "write pages", "create snapshot", ...
	Name       string        // blob name, no query
	Status     int           // HTTP status, 0 if none arrived
	Code       string        // service error code, e.g. ServerBusy
	RetryAfter time.Duration // delay the service asked for, 0 if none
	Class      error         // one of the ErrX classes, or nil
	Err        error         // underlying cause, already redacted
}

// Error formats the operation, blob, status and cause.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Op, e.Name)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Class != nil {
		fmt.Fprintf(&b, ": %v", e.Class)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Unwrap exposes the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Class != nil {
		errs = append(errs, e.Class)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// RetryAfter returns the delay the service asked for in err, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Invalid returns an ErrInvalid error for op on name.
func Invalid(op, name, format string, args ...any) error {
	return &Error{Op: op, Name: name, Class: ErrInvalid, Err: fmt.Errorf(format, args...)}
}
