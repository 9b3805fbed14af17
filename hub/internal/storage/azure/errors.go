package azure

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"hvmigrate/hub/internal/storage"
)

// mapErr turns an SDK error into a redacted *storage.Error with a class.
func mapErr(ctx context.Context, op, name string, err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e := &storage.Error{Op: op, Name: name, Status: re.StatusCode, Code: re.ErrorCode}
		e.Class = classify(re.StatusCode, re.ErrorCode)
		if re.RawResponse != nil {
			e.RetryAfter = retryAfter(re.RawResponse.Header)
		}
		return e
	}
	e := &storage.Error{Op: op, Name: name, Err: errors.New(storage.Redact(err.Error()))}
	switch {
	case ctx.Err() != nil:
		e.Err = ctx.Err() // the caller gave up; not a storage failure
	case errors.Is(err, ErrForeignHost):
		e.Class = storage.ErrDenied
	default:
		e.Class = storage.ErrTransient // timeouts, resets, lost answers
	}
	return e
}

// classify maps a status and service error code to an error class.
func classify(status int, code string) error {
	switch code {
	case "Crc64Mismatch", "Md5Mismatch":
		return storage.ErrChecksum
	case "OperationTimedOut", "ServerBusy":
		return storage.ErrThrottled
	case "BlobAlreadyExists", "InvalidBlobType", "ContainerAlreadyExists":
		return storage.ErrExists
	case "SequenceNumberConditionNotMet", "ConditionNotMet", "TargetConditionNotMet":
		return storage.ErrConditionNotMet
	}
	switch status {
	case http.StatusNotFound:
		return storage.ErrNotFound
	case http.StatusPreconditionFailed, http.StatusConflict:
		return storage.ErrConditionNotMet // 409 without an "exists" code: a state conflict
	case http.StatusForbidden, http.StatusUnauthorized:
		return storage.ErrDenied
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return storage.ErrThrottled
	case http.StatusRequestTimeout, http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return storage.ErrTransient
	}
	return storage.ErrInvalid // 3xx (redirects are not followed), 400, 413, 416, ...
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
