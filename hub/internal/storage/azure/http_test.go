package azure_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/storage/azure"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
)

// devKey is a well-formed, made-up account key.
const devKey = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5YWJjZGVmZ2hpamts"

func TestNew_plainHTTP_refused(t *testing.T) {
	cfg := azure.DefaultConfig()
	cfg.Endpoint = "http://127.0.0.1:1/acct"
	cfg.Credential = azure.SharedKey("acct", secret.New(devKey))
	if _, err := azure.New(cfg); err == nil {
		t.Fatal("New accepted a plain-HTTP endpoint without AllowHTTP")
	}
	cfg.Endpoint = "https://127.0.0.1:1/acct?sig=x"
	if _, err := azure.New(cfg); err == nil || strings.Contains(err.Error(), "sig=x") {
		t.Fatalf("New with a query: %v", err)
	}
}

// answering returns a Store on a test server that answers every request
// with status, headers and an error code, and counts requests.
func answering(t *testing.T, status int, header map[string]string, code string) (*azure.Store, *int) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if code != "" {
			w.Header().Set("x-ms-error-code", code)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.AllowHTTP = srv.URL+"/acct", true
	cfg.Credential = azure.SharedKey("acct", secret.New(devKey))
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &n
}

func TestStore_PutPages_errorClasses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		code       string
		class      error
		retryAfter time.Duration
	}{
		{"sequenceFence", 412, nil, "SequenceNumberConditionNotMet", storeerr.ErrConditionNotMet, 0},
		{"serverBusy", 503, map[string]string{"Retry-After": "7"}, "ServerBusy", storeerr.ErrThrottled, 7 * time.Second},
		{"operationTimedOut", 500, map[string]string{"x-ms-retry-after-ms": "1500"}, "OperationTimedOut", storeerr.ErrThrottled, 1500 * time.Millisecond},
		{"internal", 500, nil, "InternalError", storeerr.ErrTransient, 0},
		{"notFound", 404, nil, "BlobNotFound", storeerr.ErrNotFound, 0},
		{"crc", 400, nil, "Crc64Mismatch", storeerr.ErrChecksum, 0},
		{"forbidden", 403, nil, "AuthorizationFailure", storeerr.ErrDenied, 0},
		{"redirectNotFollowed", 307, map[string]string{"Location": "http://elsewhere.invalid/x"}, "", storeerr.ErrInvalid, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n := answering(t, tt.status, tt.header, tt.code)
			data := make([]byte, 512)
			err := s.PutPages(context.Background(), "ctr/b", 0, data, storage.CRC64(data), storage.IfSequenceLE(3))
			if !errors.Is(err, tt.class) {
				t.Fatalf("PutPages: %v, want %v", err, tt.class)
			}
			if got := storeerr.RetryAfter(err); got != tt.retryAfter {
				t.Fatalf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			if *n != 1 {
				t.Fatalf("%d requests; the SDK must not retry or follow redirects", *n)
			}
			if strings.Contains(err.Error(), devKey) || strings.Contains(err.Error(), "SharedKey") {
				t.Fatalf("error text carries the credential: %v", err)
			}
		})
	}
}

func TestStore_unreachable_transientAndRedacted(t *testing.T) {
	cfg := azure.DefaultConfig()
	cfg.Endpoint, cfg.AllowHTTP = "http://127.0.0.1:1/acct", true
	cfg.Credential = azure.SharedKey("acct", secret.New(devKey))
	s, err := azure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Properties(context.Background(), "ctr/b", "")
	if !errors.Is(err, storeerr.ErrTransient) || strings.Contains(err.Error(), devKey) {
		t.Fatalf("Properties on a closed port: %v", err)
	}
}
