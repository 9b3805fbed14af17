package driver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
)

// TestLinkAgent_waitsForASession: with the agent away, a call waits for
// a session instead of failing at once, and gives up with ErrUnavailable
// when its context ends.
func TestLinkAgent_waitsForASession(t *testing.T) {
	link := agentclient.NewLink(agentclient.DefaultLinkConfig(t.TempDir()+"/none.sock"), hclog.NewNullLogger())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := LinkAgent{Link: link}.ListJobs(ctx, "vm")
	if !errors.Is(err, agentclient.ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %s: a call must wait for the agent to come back", waited)
	}
}
