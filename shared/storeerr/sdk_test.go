package storeerr_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/storehttp"
)

func TestFromSDK_responseClasses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		code       string
		header     map[string]string
		class      error
		retryAfter time.Duration
	}{
		{"crc", 400, "Crc64Mismatch", nil, storeerr.ErrChecksum, 0},
		{"md5", 400, "Md5Mismatch", nil, storeerr.ErrChecksum, 0},
		{"serverBusy", 503, "ServerBusy", map[string]string{"Retry-After": "7"}, storeerr.ErrThrottled, 7 * time.Second},
		{"operationTimedOut", 500, "OperationTimedOut", map[string]string{"x-ms-retry-after-ms": "1500"}, storeerr.ErrThrottled, 1500 * time.Millisecond},
		{"tooMany", 429, "", map[string]string{"retry-after-ms": "250"}, storeerr.ErrThrottled, 250 * time.Millisecond},
		{"blobExists", 409, "BlobAlreadyExists", nil, storeerr.ErrExists, 0},
		{"blobType", 409, "InvalidBlobType", nil, storeerr.ErrExists, 0},
		{"containerExists", 409, "ContainerAlreadyExists", nil, storeerr.ErrExists, 0},
		{"sequenceFence", 412, "SequenceNumberConditionNotMet", nil, storeerr.ErrConditionNotMet, 0},
		{"condition", 412, "ConditionNotMet", nil, storeerr.ErrConditionNotMet, 0},
		{"targetCondition", 412, "TargetConditionNotMet", nil, storeerr.ErrConditionNotMet, 0},
		{"stateConflict", 409, "LeaseIdMissing", nil, storeerr.ErrConditionNotMet, 0},
		{"notFound", 404, "BlobNotFound", nil, storeerr.ErrNotFound, 0},
		{"forbidden", 403, "AuthorizationFailure", nil, storeerr.ErrDenied, 0},
		{"unauthorized", 401, "", nil, storeerr.ErrDenied, 0},
		{"internal", 500, "InternalError", nil, storeerr.ErrTransient, 0},
		{"gateway", 504, "", nil, storeerr.ErrTransient, 0},
		{"redirect", 307, "", nil, storeerr.ErrInvalid, 0},
		{"range", 416, "InvalidPageRange", nil, storeerr.ErrInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			re := &azcore.ResponseError{StatusCode: tt.status, ErrorCode: tt.code, RawResponse: &http.Response{Header: h}}
			err := storeerr.FromSDK(context.Background(), "put pages", "ctr/b", re)
			if !errors.Is(err, tt.class) {
				t.Fatalf("%v, want %v", err, tt.class)
			}
			if got := storeerr.RetryAfter(err); got != tt.retryAfter {
				t.Fatalf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			var se *storeerr.Error
			if !errors.As(err, &se) || se.Status != tt.status || se.Code != tt.code || se.Op != "put pages" {
				t.Fatalf("fields lost: %#v", se)
			}
		})
	}
}

func TestFromSDK_transportFailure(t *testing.T) {
	uerr := &url.Error{Op: "Put", URL: sasURL, Err: errors.New("connection reset by peer")}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		ctx   context.Context
		err   error
		class error
		cause error
	}{
		{"reset", context.Background(), uerr, storeerr.ErrTransient, nil},
		{"foreignHost", context.Background(), fmt.Errorf("%w: request to http://elsewhere refused", storehttp.ErrForeignHost), storeerr.ErrDenied, nil},
		{"callerGaveUp", cancelled, uerr, nil, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := storeerr.FromSDK(tt.ctx, "put pages", "ctr/b", tt.err)
			t.Log(err)
			if strings.Contains(err.Error(), "S3CR3TSIG") {
				t.Fatalf("leak: %v", err)
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				t.Fatal("the *url.Error with the SAS is still reachable")
			}
			for _, c := range []error{tt.class, tt.cause} {
				if c != nil && !errors.Is(err, c) {
					t.Fatalf("%v, want %v", err, c)
				}
			}
			if tt.class == nil && storeerr.Retryable(err) {
				t.Fatalf("%v is retryable", err)
			}
		})
	}
	if storeerr.FromSDK(context.Background(), "op", "b", nil) != nil {
		t.Fatal("nil not preserved")
	}
}
