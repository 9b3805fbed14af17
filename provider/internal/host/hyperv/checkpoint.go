package hyperv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"hvmigrate/provider/internal/host"
)

// ours reports whether a snapshot is the backend's replication checkpoint:
// a recovery snapshot carrying the configured name.
func (b *Backend) ours(s snapshotRecord) bool {
	return s.Type == vsTypeRecovery && s.Name == b.cfg.CheckpointName
}

// foreignSnapshots lists the snapshots the backend did not make.
func (b *Backend) foreignSnapshots(r vmRecord) []snapshotRecord {
	var out []snapshotRecord
	for _, s := range r.Snapshots {
		if !b.ours(s) {
			out = append(out, s)
		}
	}
	return out
}

// ourSnapshot returns the VM's replication checkpoint.
func (b *Backend) ourSnapshot(r vmRecord) (snapshotRecord, error) {
	var found []snapshotRecord
	for _, s := range r.Snapshots {
		if b.ours(s) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return snapshotRecord{}, fmt.Errorf("vm %s: %w", r.ID, host.ErrNoCheckpoint)
	case 1:
		return found[0], nil
	}
	return snapshotRecord{}, fmt.Errorf("vm %s: %d checkpoints named %q: %w",
		r.ID, len(found), b.cfg.CheckpointName, host.ErrCheckpointExists)
}

// refuseCheckpoint says why a VM cannot get a replication checkpoint now.
func (b *Backend) refuseCheckpoint(r vmRecord) error {
	if bad := unsupportedDisks(r); len(bad) > 0 {
		return fmt.Errorf("vm %s: disks that are not virtual hard disk files: %s: %w",
			r.ID, strings.Join(bad, ", "), host.ErrUnsupported)
	}
	if len(vhdDisks(r)) == 0 {
		return fmt.Errorf("vm %s: no virtual hard disks: %w", r.ID, host.ErrUnsupported)
	}
	if len(r.Snapshots) == 0 {
		return nil
	}
	var names []string
	for _, s := range r.Snapshots {
		names = append(names, fmt.Sprintf("%q (%s)", s.Name, s.Type))
	}
	return fmt.Errorf("vm %s: has checkpoints %s: %w", r.ID, strings.Join(names, ", "), host.ErrCheckpointExists)
}

// CreateCheckpoint freezes every disk of the VM with one recovery snapshot.
// With tracking, Hyper-V Replica tracking is started first (if it is not
// on already): writes between the start of the log and the snapshot are
// then both in the frozen files and in the log, which is harmless because
// replaying a write is idempotent, whereas the opposite order could lose
// writes.
func (b *Backend) CreateCheckpoint(ctx context.Context, vmID string, tracking bool) (host.Checkpoint, error) {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return host.Checkpoint{}, err
	}
	if err := b.refuseCheckpoint(r); err != nil {
		return host.Checkpoint{}, err
	}
	started := false
	if tracking && !trackingOn(r.Replication) {
		if err := b.startTracking(ctx, r); err != nil {
			return host.Checkpoint{}, err
		}
		started = true
	}
	cp, err := b.checkpoint(ctx, r)
	if err != nil && started {
		if rbErr := b.stopTracking(ctx, vmID); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("roll back tracking: %w", rbErr))
		}
	}
	return cp, err
}

// checkpoint takes and names the snapshot and reports the frozen files.
func (b *Backend) checkpoint(ctx context.Context, before vmRecord) (host.Checkpoint, error) {
	vmID := before.ID
	err := b.invoke(ctx, "create checkpoint of vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.createSnapshot(ctx, vmID, snapshotTypeRecovery)
	})
	if err != nil {
		return host.Checkpoint{}, err
	}
	after, err := b.record(ctx, vmID)
	if err != nil {
		return host.Checkpoint{}, err
	}
	snap, err := newSnapshot(before, after)
	if err == nil {
		err = b.invoke(ctx, "name checkpoint of vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
			return b.w.renameSnapshot(ctx, snap.Path, b.cfg.CheckpointName)
		})
	}
	var cp host.Checkpoint
	if err == nil {
		cp, err = b.frozen(ctx, before, after)
	}
	if err != nil && snap.Path != "" {
		b.log.Warn("removing checkpoint after failure", "vm_id", vmID, "error", err)
		if rbErr := b.destroy(ctx, vmID, snap); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("remove checkpoint: %w", rbErr))
		}
	}
	return cp, err
}

// newSnapshot finds the one recovery snapshot that after has and before
// did not.
func newSnapshot(before, after vmRecord) (snapshotRecord, error) {
	old := map[string]bool{}
	for _, s := range before.Snapshots {
		old[s.InstanceID] = true
	}
	var found []snapshotRecord
	for _, s := range after.Snapshots {
		if !old[s.InstanceID] && s.Type == vsTypeRecovery {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		return snapshotRecord{}, fmt.Errorf("vm %s: want 1 new recovery checkpoint, found %d", after.ID, len(found))
	}
	return found[0], nil
}

// frozen maps each disk to the file it was writing before the snapshot,
// after checking that its new current file is a child of that file.
func (b *Backend) frozen(ctx context.Context, before, after vmRecord) (host.Checkpoint, error) {
	cp := host.Checkpoint{Frozen: map[string]string{}}
	prev := map[string]string{}
	for _, d := range vhdDisks(before) {
		prev[samePathKey(d.Path)] = d.Path
	}
	cur := vhdDisks(after)
	if len(prev) != len(cur) {
		return cp, fmt.Errorf("vm %s: %d disks before the checkpoint, %d after", after.ID, len(prev), len(cur))
	}
	for _, d := range cur {
		top, err := b.vhd(ctx, d.Path)
		if err != nil {
			return cp, err
		}
		parent, ok := prev[samePathKey(top.ParentPath)]
		if !ok {
			return cp, fmt.Errorf("vm %s: disk %s: parent %q is not a pre-checkpoint file", after.ID, d.Path, top.ParentPath)
		}
		delete(prev, samePathKey(top.ParentPath))
		info, err := b.disk(ctx, d.Path)
		if err != nil {
			return cp, err
		}
		cp.Frozen[info.ID] = parent
	}
	return cp, nil
}

// DeleteCheckpoint merges the replication checkpoint back.
func (b *Backend) DeleteCheckpoint(ctx context.Context, vmID string) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	snap, err := b.ourSnapshot(r)
	if err != nil {
		return err
	}
	return b.destroy(ctx, vmID, snap)
}

func (b *Backend) destroy(ctx context.Context, vmID string, snap snapshotRecord) error {
	return b.invoke(ctx, "merge checkpoint of vm "+vmID, b.cfg.MergeTimeout, func() (callResult, error) {
		return b.w.destroySnapshot(ctx, snap.Path)
	})
}
