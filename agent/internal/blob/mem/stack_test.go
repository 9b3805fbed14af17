package mem_test

import (
	"context"
	"testing"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/blobtest"
	"hvmigrate/agent/internal/blob/limit"
	"hvmigrate/agent/internal/blob/logging"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/agent/internal/blob/redact"
	"hvmigrate/agent/internal/blob/retry"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/shared/units"
)

// withReader pairs the wrapped store with the fake's ReadBlob.
type withReader struct {
	blob.Store
	m *mem.Store
}

func (w withReader) ReadBlob(ctx context.Context, name string) ([]byte, error) {
	return w.m.ReadBlob(ctx, name)
}

// testOutput sends log lines to the test log.
type testOutput struct{ t *testing.T }

func (o testOutput) Write(p []byte) (int, error) {
	o.t.Log(string(p))
	return len(p), nil
}

// The agent's wrapper stack keeps the Store contract.
func TestStore_conformanceThroughWrappers(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store {
		m := mem.New()
		fast := units.Schedule{WorkHours: units.MaxBandwidth, OffHours: units.MaxBandwidth}
		lim, err := throttle.New(throttle.Config{Schedule: fast})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(lim.Close)
		var s blob.Store = redact.New(m)
		s = limit.New(s, lim.For("vm1"), limit.DefaultConfig())
		s = logging.New(s, hclog.New(&hclog.LoggerOptions{Output: testOutput{t}, Level: hclog.Debug}))
		s = retry.New(s, retry.Config{MaxAttempts: 3, BaseDelay: 1})
		return withReader{Store: s, m: m}
	})
}
