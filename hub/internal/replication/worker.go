package replication

import (
	"context"
	"time"

	"hvmigrate/hub/internal/state"
)

// Run drives the VM workers until ctx ends: it wakes every replicating VM
// at start and on every tick (held cycles are retried, grants renewed),
// and waits for running workers before it returns.
//
// At start it renews every active VM's grants: a hub that stopped between
// recording new grants and queueing them to the host left the host
// without grants the state says it holds, and the host would wait for
// cycles it cannot upload.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for renewAll := true; ; renewAll = false {
		s.sweep(ctx, renewAll)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// sweep renews grants that run out soon (or every active VM's, with
// renewAll) and wakes every active VM.
func (s *Service) sweep(ctx context.Context, renewAll bool) {
	all, err := s.store.Replications(ctx)
	if err != nil {
		s.log.Warn("list replications", "error", err)
		return
	}
	for _, r := range all {
		if (renewAll && grantsActive(r) && !r.GrantsExpireAt.IsZero()) || s.needsGrants(r) {
			if err := s.refreshGrants(ctx, r); err != nil {
				s.log.Warn("renew grants", "vm_id", r.VMID, "error", err)
			}
		}
		if r.State == state.ReplReplicating || r.State == state.ReplMigrating {
			s.kick(r.VMID)
		}
	}
}

// kick runs the VM's worker, or asks the running one for another pass.
// Before Run starts, kicks are dropped: Run's first sweep catches up.
func (s *Service) kick(vmID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == nil || s.base.Err() != nil {
		return
	}
	if s.running[vmID] {
		s.again[vmID] = true
		return
	}
	s.running[vmID] = true
	ctx := s.base
	s.wg.Go(func() { s.work(ctx, vmID) })
}

// work applies every ready cycle of a VM, again while kicked meanwhile.
func (s *Service) work(ctx context.Context, vmID string) {
	for {
		for ctx.Err() == nil {
			more, err := s.applyNext(ctx, vmID)
			if err != nil {
				s.log.Warn("apply pass failed; retrying on the next tick", "vm_id", vmID, "error", err)
			}
			if !more || err != nil {
				break
			}
		}
		s.advanceIfMigrating(ctx, vmID)
		s.answerResyncs(ctx, vmID)
		s.mu.Lock()
		if !s.again[vmID] || ctx.Err() != nil {
			delete(s.running, vmID)
			delete(s.again, vmID)
			s.mu.Unlock()
			return
		}
		delete(s.again, vmID)
		s.mu.Unlock()
	}
}

// advanceIfMigrating moves a migrating VM's cutover on as far as it can;
// a migrated VM may still owe its last step (stopStep marks the VM
// migrated before it records the step done).
func (s *Service) advanceIfMigrating(ctx context.Context, vmID string) {
	r, err := s.store.GetReplication(ctx, vmID)
	if err != nil || (r.State != state.ReplMigrating && r.State != state.ReplMigrated) {
		return
	}
	if _, err := s.advance(ctx, vmID); err != nil {
		s.log.Warn("migration held", "vm_id", vmID, "error", err)
	}
}
