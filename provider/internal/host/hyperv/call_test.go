package hyperv

import (
	"context"
	"errors"
	"testing"

	"hvmigrate/provider/internal/host"
)

var errCOMBusy = &comError{Op: "ExecMethod", HResult: hrRPCServerCallRetry, Err: errors.New("server busy")}

func TestBackend_invoke_outcomes(t *testing.T) {
	tests := []struct {
		name      string
		script    []outcome
		wantErr   error // class expected via errors.Is; nil means success
		wantCalls int
	}{
		{"completed at once", []outcome{{code: codeCompleted}}, nil, 1},
		{"job completes", []outcome{{code: codeJobStarted, job: []jobRecord{{State: jobStarting}, {State: jobRunning}, {State: jobCompleted}}}}, nil, 1},
		{"job exception with not-supported code", []outcome{{code: codeJobStarted, job: []jobRecord{{State: jobException, ErrorCode: uint16(codeVendorNotSupp), Description: "nope"}}}}, host.ErrUnsupported, 1},
		{"job killed without code", []outcome{{code: codeJobStarted, job: []jobRecord{{State: jobKilled}}}}, errAnyCode, 1},
		{"job completed with error code", []outcome{{code: codeJobStarted, job: []jobRecord{{State: jobCompleted, ErrorCode: uint16(codeFileNotFound)}}}}, host.ErrNotFound, 1},
		{"job never ends", []outcome{{code: codeJobStarted, job: []jobRecord{{State: jobRunning}}}}, host.ErrUnavailable, 1},
		{"failure code", []outcome{{code: codeInvalidState}}, errAnyCode, 1},
		{"in use then ok is retried", []outcome{{code: codeSystemInUse}, {code: codeCompleted}}, nil, 2},
		{"in use every time gives up", []outcome{{code: codeSystemInUse}, {code: codeSystemInUse}, {code: codeSystemInUse}, {code: codeSystemInUse}}, host.ErrUnavailable, 4},
		{"transient com failure is not retried for a change", []outcome{{err: errCOMBusy}, {code: codeCompleted}}, host.ErrUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			f.on("requestStateChange", tt.script...)
			b := newTestBackend(t, f)
			err := b.invoke(context.Background(), "op", b.cfg.JobTimeout, func() (callResult, error) {
				return f.requestStateChange(context.Background(), "vm1", stateDisabled)
			})
			checkErr(t, err, tt.wantErr)
			if got := f.count("requestStateChange"); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

// errAnyCode asks checkErr for any *codeError.
var errAnyCode = errors.New("any code error")

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("error = %v, want nil", err)
	case want == nil:
	case err == nil:
		t.Fatalf("error = nil, want %v", want)
	case want == errAnyCode:
		var ce *codeError
		if !errors.As(err, &ce) {
			t.Fatalf("error = %v, want a return-code error", err)
		}
	case !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func TestBackend_query_retriesTransient(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		wantErr   error
		wantCalls int
	}{
		{"transient then ok", []error{errCOMBusy}, nil, 2},
		{"transient until retries run out", []error{errCOMBusy, errCOMBusy, errCOMBusy, errCOMBusy}, host.ErrUnavailable, 4},
		{"not found is not retried", []error{errNoSuchVM}, host.ErrNotFound, 1},
		{"namespace missing is unsupported", []error{&comError{Op: "connect", HResult: hrWbemInvalidNS, Err: errors.New("invalid namespace")}}, host.ErrUnsupported, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			for _, e := range tt.errs {
				f.on("queryVM", outcome{err: e})
			}
			b := newTestBackend(t, f)
			_, err := b.VM(context.Background(), "vm1")
			checkErr(t, err, tt.wantErr)
			if got := f.count("queryVM"); got != tt.wantCalls {
				t.Errorf("queryVM calls = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestClassOfCode_ranges(t *testing.T) {
	tests := []struct {
		code uint32
		want error
	}{
		{codeNotSupported, host.ErrUnsupported},
		{codeVendorNotSupp, host.ErrUnsupported},
		{codeFileNotFound, host.ErrNotFound},
		{codeSystemInUse, host.ErrUnavailable},
		{codeVendorTimeout, host.ErrUnavailable},
		{codeInvalidState, nil},
		{codeAccessDenied, nil},
	}
	for _, tt := range tests {
		if got := classOfCode(tt.code); got != tt.want {
			t.Errorf("classOfCode(%d) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestConfig_validate_rejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"odd interval", func(c *Config) { c.ReplicationInterval = 0 }},
		{"no poll interval", func(c *Config) { c.PollInterval = 0 }},
		{"no checkpoint name", func(c *Config) { c.CheckpointName = "" }},
		{"negative retries", func(c *Config) { c.Retries = -1 }},
	}
	if err := DefaultConfig().validate(); err != nil {
		t.Fatalf("DefaultConfig invalid: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			if _, err := newBackend(newFakeHost(), c, nil); err == nil {
				t.Fatal("newBackend accepted a bad config")
			}
		})
	}
}
