package hublink

import (
	"context"
	"errors"
	"testing"
	"time"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
)

// ackingSender acknowledges events only when told to.
type ackingSender struct {
	sender
	acks chan error
}

func (s *ackingSender) WaitAcked(ctx context.Context, _ string) error {
	select {
	case err := <-s.acks:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestHub_ReportCycle_waitsForTheHub: a manifest counts as reported only
// once the hub stored it; a refusal or a deadline is an error, so the
// driver keeps the cycle and reports it again.
func TestHub_ReportCycle_waitsForTheHub(t *testing.T) {
	m := replication.Manifest{VMID: testVM, Kind: replication.ManifestDelta, Cycle: 4, Previous: 3,
		Disks: []replication.ManifestDisk{{DiskID: testDisk, Object: "o", Bytes: 1}}}
	s := &ackingSender{acks: make(chan error, 1)}
	h := NewHub(testConfig(), Deps{Send: s})

	done := make(chan error, 1)
	go func() { done <- h.ReportCycle(context.Background(), m) }()
	select {
	case err := <-done:
		t.Fatalf("ReportCycle returned %v before the hub acknowledged", err)
	case <-time.After(100 * time.Millisecond):
	}
	s.acks <- nil
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	refused := &hubclient.HubError{Class: hubclient.ErrInvalid, Message: "no"}
	s.acks <- refused
	if err := h.ReportCycle(context.Background(), m); !errors.Is(err, hubclient.ErrInvalid) {
		t.Fatalf("refused manifest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.ReportCycle(ctx, m); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("unacknowledged manifest: %v", err)
	}
}
