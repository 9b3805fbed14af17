package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/state"
)

// applyNext applies the VM's next cycle if its manifest is stored, then
// records its recovery point and prunes. It reports whether it applied
// one (so another may follow). Held cycles set the VM's health and are
// not errors.
func (s *Service) applyNext(ctx context.Context, vmID string) (bool, error) {
	r, err := s.store.GetReplication(ctx, vmID)
	if err != nil || (r.State != state.ReplReplicating && r.State != state.ReplMigrating) {
		return false, err
	}
	next, base := r.AppliedCycle+1, uint64(0)
	if c, ok, err := s.resyncBase(ctx, vmID, r.AppliedCycle); err != nil {
		return false, err
	} else if ok {
		// An answered resync replaces the held cycles before it.
		next, base = c, r.AppliedCycle
	}
	m, err := s.store.GetManifest(ctx, vmID, next)
	if errors.Is(err, state.ErrNotFound) {
		if base != 0 {
			return false, nil // the resync's manifest is on its way
		}
		return false, s.checkGap(ctx, r)
	}
	if err != nil {
		return false, err
	}
	req, err := s.cycleRequest(r, m)
	if err != nil {
		return false, s.hold(ctx, vmID, err.Error())
	}
	req.Base = base
	if _, err := s.apply.Apply(ctx, req); err != nil {
		if held(err) {
			return false, s.hold(ctx, vmID, err.Error())
		}
		return false, err
	}
	if err := s.recordPoint(ctx, r, req); err != nil {
		return false, err
	}
	return true, s.finishCycle(ctx, r, m)
}

// held reports whether an apply error waits on the host, not the hub.
func held(err error) bool {
	return errors.Is(err, applier.ErrGap) || errors.Is(err, applier.ErrObjectMissing) ||
		errors.Is(err, applier.ErrObjectInvalid) || errors.Is(err, applier.ErrReplica) || errors.Is(err, applier.ErrRequest)
}

// checkGap holds a VM whose host reported cycles past a missing one.
func (s *Service) checkGap(ctx context.Context, r state.Replication) error {
	sum, err := s.store.SummariseManifests(ctx, r.VMID, r.AppliedCycle)
	if err != nil || sum.Latest <= r.AppliedCycle+1 {
		return err
	}
	return s.hold(ctx, r.VMID, fmt.Sprintf("gap: cycle %d was never reported, cycles up to %d wait for it",
		r.AppliedCycle+1, sum.Latest))
}

// cycleRequest builds the applier's request from the hub's own names; the
// object names the host reported must match them.
func (s *Service) cycleRequest(r state.Replication, m state.Manifest) (applier.VMCycle, error) {
	vmID, err := ParseID(r.VMID)
	if err != nil {
		return applier.VMCycle{}, err
	}
	req := applier.VMCycle{VMID: vmID, Cycle: m.Cycle}
	reported := map[string]string{}
	for _, d := range m.Disks {
		reported[d.DiskID] = d.Object
	}
	for _, d := range r.Disks {
		diskID, _ := ParseID(d.DiskID)
		obj, ok := reported[d.DiskID]
		want := s.layout.CycleBlob(vmID, diskID, m.Cycle)
		if rs := s.layout.ResyncBlob(vmID, diskID, m.Cycle); obj == rs {
			want = rs // a resync sends its differing chunks in place of the cycle's object
		}
		switch {
		case !ok:
			return req, fmt.Errorf("cycle %d: manifest has no object for disk %s", m.Cycle, d.DiskID)
		case obj != "" && obj != want:
			return req, fmt.Errorf("cycle %d: disk %s object %q is not the granted name %q", m.Cycle, d.DiskID, obj, want)
		}
		req.Disks = append(req.Disks, applier.DiskCycle{DiskID: diskID,
			ReplicaBlob: full(s.layout.ReplicasContainer(r.ProjectID), s.layout.ReplicaBlob(vmID, diskID)),
			DeltaBlob:   full(s.layout.CyclesContainer(r.ProjectID), want), VirtualSize: d.SizeBytes})
	}
	return req, nil
}

// recordPoint takes the cycle's recovery point and prunes by the policy.
func (s *Service) recordPoint(ctx context.Context, r state.Replication, req applier.VMCycle) error {
	mgr := s.recovery(r)
	disks := make([]recovery.Disk, len(req.Disks))
	for i, d := range req.Disks {
		disks[i] = recovery.Disk{DiskID: d.DiskID, Blob: d.ReplicaBlob}
	}
	if _, err := mgr.Record(ctx, req.VMID, req.Cycle, disks); err != nil {
		return fmt.Errorf("recovery point of cycle %d: %w", req.Cycle, err)
	}
	if _, err := mgr.Prune(ctx, req.VMID); err != nil {
		return fmt.Errorf("prune recovery points: %w", err)
	}
	return nil
}

// recovery returns the recovery point manager for a VM's policy.
func (s *Service) recovery(r state.Replication) *recovery.Manager {
	return recovery.New(s.blobs, pointStore{st: s.store}, recovery.Config{Policy: retention(r),
		Clock: clockFunc(s.cfg.Now), Logger: s.log})
}

// finishCycle records the applied cycle and renews the grants when the
// window of granted cycles runs short.
func (s *Service) finishCycle(ctx context.Context, r state.Replication, m state.Manifest) error {
	r, err := s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		if m.Cycle > r.AppliedCycle {
			r.AppliedCycle, r.AppliedAt, r.SwitchedAt = m.Cycle, s.cfg.Now(), m.SwitchedAt
		}
		if r.Health == "held" {
			r.Health, r.HealthMessage = "ok", ""
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("cycle applied", "vm_id", r.VMID, "cycle", m.Cycle)
	s.notify()
	if s.needsGrants(r) {
		return s.refreshGrants(ctx, r)
	}
	return nil
}

// clockFunc adapts a function to recovery.Clock.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }
