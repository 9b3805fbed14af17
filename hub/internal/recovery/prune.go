package recovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// Prune deletes the points of a VM that the policy no longer keeps, and
// points left Deleting by an earlier Prune. It returns the points removed.
func (m *Manager) Prune(ctx context.Context, vm delta.ID) ([]Point, error) {
	points, err := m.store.Points(ctx, vm)
	if err != nil {
		return nil, fmt.Errorf("load recovery points: %w", err)
	}
	keep := Retained(points, m.cfg.Policy, m.cfg.Clock.Now())
	var removed []Point
	for _, p := range points {
		if p.State == Active && keep[p.Cycle] {
			continue
		}
		if err := m.remove(ctx, p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
	}
	return removed, nil
}

// remove records the intent, deletes the snapshots and forgets the point.
func (m *Manager) remove(ctx context.Context, p Point) error {
	if p.State != Deleting {
		p.State = Deleting
		if err := m.store.Save(ctx, p); err != nil {
			return fmt.Errorf("mark recovery point %d deleting: %w", p.Cycle, err)
		}
	}
	for _, d := range p.Disks {
		err := m.blobs.DeleteSnapshot(ctx, d.Blob, d.Snapshot)
		if err != nil && !errors.Is(err, storeerr.ErrNotFound) {
			return fmt.Errorf("delete snapshot of point %d disk %x: %w", p.Cycle, d.DiskID, err)
		}
	}
	if err := m.store.Remove(ctx, p.VMID, p.Cycle); err != nil {
		return fmt.Errorf("forget recovery point %d: %w", p.Cycle, err)
	}
	m.log.Info("recovery point pruned", "vm_id", fmt.Sprintf("%x", p.VMID), "cycle", p.Cycle)
	return nil
}

// Sweep deletes the snapshots of the given replica blobs that this package
// tagged for the VM but no recorded point refers to: what a Record left
// behind when it was never retried. It returns how many it deleted. Run it
// only while no Record for the VM is in progress (from the VM's own loop),
// or it may delete a snapshot that Record is about to save.
func (m *Manager) Sweep(ctx context.Context, vm delta.ID, blobs []string) (int, error) {
	points, err := m.store.Points(ctx, vm)
	if err != nil {
		return 0, fmt.Errorf("load recovery points: %w", err)
	}
	known := map[string]bool{}
	for _, p := range points {
		for _, d := range p.Disks {
			known[d.Blob+"@"+d.Snapshot] = true
		}
	}
	n := 0
	for _, b := range blobs {
		snaps, err := m.blobs.ListSnapshots(ctx, b)
		if err != nil {
			return n, err
		}
		for _, s := range snaps {
			if !m.orphan(vm, b, s, known) {
				continue
			}
			if err := m.blobs.DeleteSnapshot(ctx, b, s.ID); err != nil && !errors.Is(err, storeerr.ErrNotFound) {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// orphan reports whether a snapshot is ours, for the VM, and unreferenced.
func (m *Manager) orphan(vm delta.ID, blob string, s storage.Snapshot, known map[string]bool) bool {
	if s.Metadata[metaVM] != fmt.Sprintf("%x", vm) {
		return false
	}
	if _, err := strconv.ParseUint(s.Metadata[metaCycle], 10, 64); err != nil {
		return false
	}
	return !known[blob+"@"+s.ID]
}
