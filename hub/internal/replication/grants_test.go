package replication_test

import (
	"context"
	"testing"

	"hvmigrate/hub/internal/stream"
)

// refreshes counts the RefreshSAS commands for vmID.
func refreshes(cmds []stream.Command, vmID string) int {
	n := 0
	for _, c := range cmds {
		if c.RefreshSAS != nil && c.RefreshSAS.VMID == vmID {
			n++
		}
	}
	return n
}

// TestService_grants_lostRefreshIsRetried: a grant renewal that was
// recorded but could not be queued is queued again on a later tick, so the
// host gets the cycles past its old window (4 here) instead of waiting
// for them forever.
func TestService_grants_lostRefreshIsRetried(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("lost", 1<<20)
	if _, err := e.svc.Enable(e.ctx, "lost", testPolicy()); err != nil {
		t.Fatal(err)
	}
	src.copyInitial()
	e.streams.mu.Lock()
	e.streams.failRefresh = 1
	e.streams.mu.Unlock()
	for c := uint64(1); c <= 6; c++ { // cycle 5 needs the renewal that was lost
		src.event(src.nextCycle(planOpt))
		waitFor(t, "cycle applied", func() bool { return src.status().AppliedCycle == c })
	}
}

// TestService_Run_renewsGrantsAtStart: a service starting over an existing
// state queues every active VM's grants again, since a hub that stopped
// between recording grants and queueing them left the host without them.
func TestService_Run_renewsGrantsAtStart(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("restart", 1<<20)
	if _, err := e.svc.Enable(e.ctx, "restart", testPolicy()); err != nil {
		t.Fatal(err)
	}
	next := e.newServiceWith(nil)
	queued := &fakeStreams{}
	next.SetStreams(queued)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { next.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "grants queued at start", func() bool { return refreshes(queued.all(), src.vmID()) == 1 })
	if n := refreshes(e.streams.all(), src.vmID()); n != 0 {
		t.Fatalf("the running service renewed %d times without need", n)
	}
}
