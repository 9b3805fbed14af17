package replication

import (
	"context"
	"fmt"
	"time"

	"hvmigrate/hub/internal/state"
)

// VMStatus is one replicated VM as hvmctl status shows it.
type VMStatus struct {
	state.Replication
	LatestReported uint64        // highest cycle the host reported
	PendingBytes   int64         // reported but not yet applied
	RPO            time.Duration // age of the source instant the replica holds; 0 before the first cycle
	Points         int           // recovery points kept
	Migration      string        // migration step and what it waits for; empty when none
	HostHealth     state.HostHealth
}

// Status returns every replicated VM (or the one named by vmRef).
func (s *Service) Status(ctx context.Context, vmRef string) ([]VMStatus, error) {
	var reps []state.Replication
	if vmRef != "" {
		r, err := s.replicationOf(ctx, vmRef)
		if err != nil {
			return nil, err
		}
		reps = []state.Replication{r}
	} else {
		var err error
		if reps, err = s.store.Replications(ctx); err != nil {
			return nil, err
		}
	}
	health, err := s.store.HostHealths(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VMStatus, 0, len(reps))
	for _, r := range reps {
		vs, err := s.vmStatus(ctx, r)
		if err != nil {
			return nil, err
		}
		vs.HostHealth = health[r.HostID]
		out = append(out, vs)
	}
	return out, nil
}

func (s *Service) vmStatus(ctx context.Context, r state.Replication) (VMStatus, error) {
	vs := VMStatus{Replication: r}
	sum, err := s.store.SummariseManifests(ctx, r.VMID, r.AppliedCycle)
	if err != nil {
		return vs, err
	}
	vs.LatestReported, vs.PendingBytes = sum.Latest, sum.PendingBytes
	if !r.SwitchedAt.IsZero() && r.State != state.ReplDisabled {
		vs.RPO = s.cfg.Now().Sub(r.SwitchedAt).Truncate(time.Second)
	}
	if m, err := s.loadMigration(ctx, r.VMID); err == nil {
		vs.Migration = m.Step
		if w := s.migrationWait(ctx, r, m); w != "" {
			vs.Migration += ": " + w
		}
	}
	points, err := s.Points(ctx, r.VMID)
	vs.Points = len(points)
	return vs, err
}

// Points lists a VM's recovery points, oldest first.
func (s *Service) Points(ctx context.Context, vmRef string) ([]state.RecoveryPoint, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return nil, err
	}
	id, err := ParseID(r.VMID)
	if err != nil {
		return nil, err
	}
	return s.store.Points(ctx, vmKey(id))
}

// migrationWait says what a migration in its first step waits for.
func (s *Service) migrationWait(ctx context.Context, r state.Replication, m Migration) string {
	if m.Step != StepRequested {
		return m.Message
	}
	final, waiting := finalCycle(r, &m)
	if waiting == "" && r.AppliedCycle < final {
		waiting = fmt.Sprintf("waiting for the final cycle %d to be applied", final)
	}
	return waiting
}
