package replication

import (
	"context"
	"errors"
	"fmt"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
)

var _ stream.EventHandler = (*Service)(nil)

// HandleEvent records what a host reports. The stream calls it once per
// event id (before storing the id) and only for the host's own VMs; an
// error leaves the event unacknowledged, so the host sends it again.
func (s *Service) HandleEvent(ctx context.Context, hostID string, ev stream.Event) error {
	var err error
	switch {
	case ev.Progress != nil:
		err = s.onProgress(ctx, ev)
	case ev.CycleManifest != nil:
		err = s.onManifest(ctx, ev)
	case ev.Health != nil:
		err = s.store.SetHostHealth(ctx, state.HostHealth{HostID: hostID, Status: ev.Health.Status,
			Message: ev.Health.Message, UpdatedAt: s.cfg.Now()})
	case ev.ErrorReport != nil:
		err = s.onErrorReport(ctx, ev.ErrorReport)
	case ev.SourceHashes != nil:
		h := ev.SourceHashes
		err = s.ReportSourceHashes(ctx, h.VMID, h.DiskID, int64(h.FirstChunk),
			DiskHashes{Cycle: h.Cycle, ChunkBytes: int64(h.ChunkBytes), SHA256: h.SHA256})
	case ev.ResyncHashes != nil:
		err = s.onResyncHashes(ctx, ev.ResyncHashes)
	default:
		return nil
	}
	if errors.Is(err, state.ErrNotFound) {
		s.log.Debug("event about a vm that is not replicated", "event_id", ev.ID, "kind", ev.Kind())
		return nil
	}
	if err == nil {
		s.notify()
	}
	return err
}

// onProgress records a disk's copy progress.
func (s *Service) onProgress(ctx context.Context, ev stream.Event) error {
	p := ev.Progress
	return s.store.SetDiskProgress(ctx, p.VMID, state.ReplicationDisk{DiskID: p.DiskID, Phase: p.Phase,
		DoneBytes: p.DoneBytes, TotalBytes: p.TotalBytes, ProgressAt: s.cfg.Now()})
}

// onErrorReport makes a host's error about a VM its health.
func (s *Service) onErrorReport(ctx context.Context, e *stream.ErrorReport) error {
	_, err := s.store.UpdateReplication(ctx, e.VMID, func(r *state.Replication) error {
		r.Health, r.HealthMessage = "error", fmt.Sprintf("host reports %s: %s", e.Reason, e.Message)
		return nil
	})
	return err
}

// onManifest stores a cycle's manifest once and wakes the VM's worker. A
// manifest means the host finished the initial copy, so the VM moves on
// to replicating and its replica write grants are no longer issued.
func (s *Service) onManifest(ctx context.Context, ev stream.Event) error {
	m := ev.CycleManifest
	r, err := s.store.GetReplication(ctx, m.VMID)
	if err != nil {
		return err
	}
	sm := state.Manifest{VMID: m.VMID, Cycle: m.Cycle, SwitchedAt: m.SwitchedAt, ReceivedAt: s.cfg.Now()}
	for _, d := range m.Disks {
		sm.Disks = append(sm.Disks, state.ManifestDisk{DiskID: d.DiskID, Object: d.ObjectName, Size: int64(d.SizeBytes)})
		sm.TotalBytes += int64(d.SizeBytes)
	}
	if m.Cycle == 0 || m.Cycle > r.GrantedThrough {
		return s.hold(ctx, m.VMID, fmt.Sprintf("manifest of cycle %d is outside the granted cycles 1..%d", m.Cycle, r.GrantedThrough))
	}
	if _, err := s.store.SaveManifest(ctx, sm); err != nil {
		return err
	}
	if r.State == state.ReplInitialCopy {
		if _, err := s.store.UpdateReplication(ctx, m.VMID, func(r *state.Replication) error {
			if r.State == state.ReplInitialCopy {
				r.State = state.ReplReplicating
			}
			return nil
		}); err != nil {
			return err
		}
	}
	s.kick(m.VMID)
	return nil
}

// hold records why a VM's cycles are held.
func (s *Service) hold(ctx context.Context, vmID, why string) error {
	_, err := s.store.UpdateReplication(ctx, vmID, func(r *state.Replication) error {
		r.Health, r.HealthMessage = "held", why
		return nil
	})
	s.log.Warn("vm held", "vm_id", vmID, "reason", why)
	return err
}
