package replication

import (
	"context"
	"fmt"
	"time"

	"hvmigrate/hub/internal/sas"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
)

// issueGrants signs the grants a VM needs now and records how far and how
// long they reach: write on each replica while its copy (or a resync)
// runs, and create on each disk's objects for the next CycleWindow cycles.
func (s *Service) issueGrants(ctx context.Context, r state.Replication) ([]stream.SASGrant, error) {
	vmID, err := ParseID(r.VMID)
	if err != nil {
		return nil, err
	}
	rep, cyc := s.layout.ReplicasContainer(r.ProjectID), s.layout.CyclesContainer(r.ProjectID)
	through := r.AppliedCycle + s.cfg.CycleWindow
	var out []stream.SASGrant
	var expires time.Time
	add := func(diskID string, g sas.Grant, err error) error {
		if err != nil {
			return err
		}
		out = append(out, stream.SASGrant{DiskID: diskID, Purpose: g.Purpose, URL: g.URL, ExpiresAt: g.ExpiresAt})
		expires = g.ExpiresAt
		return nil
	}
	for _, d := range r.Disks {
		diskID, err := ParseID(d.DiskID)
		if err != nil {
			return nil, err
		}
		if r.State == state.ReplInitialCopy {
			g, err := s.issuer.Replica(rep, s.layout.ReplicaBlob(vmID, diskID))
			if err := add(d.DiskID, g, err); err != nil {
				return nil, err
			}
		}
		for n := r.AppliedCycle + 1; n <= through; n++ {
			g, err := s.issuer.Cycle(cyc, s.layout.CycleBlob(vmID, diskID, n))
			if err := add(d.DiskID, g, err); err != nil {
				return nil, err
			}
		}
	}
	_, err = s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		r.GrantedThrough, r.GrantsExpireAt = through, expires
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// refreshGrants issues a VM's grants again and queues RefreshSas.
func (s *Service) refreshGrants(ctx context.Context, r state.Replication) error {
	grants, err := s.issueGrants(ctx, r)
	if err != nil {
		return err
	}
	cmd := stream.Command{ID: fmt.Sprintf("sas-%s-%d-%d", r.VMID, r.AppliedCycle, s.cfg.Now().UnixNano()),
		RefreshSAS: &stream.RefreshSAS{VMID: r.VMID, Grants: grants}}
	err = s.enqueue(ctx, r.HostID, cmd)
	s.mu.Lock()
	s.owed[r.VMID] = err != nil // the state now counts grants the host lacks: retry on the next tick
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("queue sas refresh for vm %s: %w", r.VMID, err)
	}
	s.log.Debug("grants refreshed", "vm_id", r.VMID, "through_cycle", r.AppliedCycle+s.cfg.CycleWindow)
	return nil
}

// needsGrants reports whether a VM's grants run out soon, in time or in
// cycles, or were recorded but never queued.
func (s *Service) needsGrants(r state.Replication) bool {
	if !grantsActive(r) {
		return false
	}
	s.mu.Lock()
	owed := s.owed[r.VMID]
	s.mu.Unlock()
	if owed {
		return true
	}
	if r.GrantsExpireAt.IsZero() {
		return false // Enable is issuing the first grants right now
	}
	return s.cfg.Now().Add(s.cfg.RenewBefore).After(r.GrantsExpireAt) ||
		r.GrantedThrough < r.AppliedCycle+s.cfg.CycleWindow/2
}

// grantsActive reports whether a VM's host holds grants.
func grantsActive(r state.Replication) bool {
	return r.State == state.ReplInitialCopy || r.State == state.ReplReplicating || r.State == state.ReplMigrating
}
