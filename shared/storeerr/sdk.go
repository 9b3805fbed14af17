package storeerr

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"hvmigrate/shared/storehttp"
)

// FromSDK turns an error of the Azure SDK for operation op on name into a
// redacted *Error with a class, or returns nil for nil. A service answer
// is classified by its status and error code and keeps the delay the
// service asked for. Any other failure keeps only its redacted text: it is
// the context's error when ctx is done (the caller gave up, not a storage
// failure, so no class), ErrDenied for a request the transport refused,
// and ErrTransient otherwise (timeouts, resets, lost answers).
func FromSDK(ctx context.Context, op, name string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e := &Error{Op: op, Name: name, Status: re.StatusCode, Code: re.ErrorCode}
		e.Class = classify(re.StatusCode, re.ErrorCode)
		if re.RawResponse != nil {
			e.RetryAfter = retryAfter(re.RawResponse.Header)
		}
		return e
	}
	e := &Error{Op: op, Name: name, Err: errors.New(Redact(err.Error()))}
	switch {
	case ctx.Err() != nil:
		e.Err = ctx.Err()
	case errors.Is(err, storehttp.ErrForeignHost):
		e.Class = ErrDenied
	default:
		e.Class = ErrTransient
	}
	return e
}

// classify maps a status and service error code to an error class.
func classify(status int, code string) error {
	switch code {
	case "Crc64Mismatch", "Md5Mismatch":
		return ErrChecksum
	case "OperationTimedOut", "ServerBusy":
		return ErrThrottled
	case "BlobAlreadyExists", "InvalidBlobType", "ContainerAlreadyExists":
		return ErrExists
	case "SequenceNumberConditionNotMet", "ConditionNotMet", "TargetConditionNotMet":
		return ErrConditionNotMet
	}
	switch status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusPreconditionFailed, http.StatusConflict:
		return ErrConditionNotMet // 409 without an "exists" code: a state conflict
	case http.StatusForbidden, http.StatusUnauthorized:
		return ErrDenied
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return ErrThrottled
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return ErrTransient
	}
	return ErrInvalid // 3xx (redirects are not followed), 400, 413, 416, ...
}

// retryAfter reads the delay headers the service may send.
func retryAfter(h http.Header) time.Duration {
	for _, k := range []string{"x-ms-retry-after-ms", "retry-after-ms"} {
		if ms, err := strconv.ParseInt(h.Get(k), 10, 64); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	v := h.Get("Retry-After")
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
