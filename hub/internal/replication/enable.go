package replication

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
)

// Enable starts replicating a VM (by id or name): it records the
// replication, creates the replica page blobs with their footer, and
// queues EnableReplication with the grants. Calling it again while the
// initial copy runs queues the same command again (a no-op for the host).
func (s *Service) Enable(ctx context.Context, vmRef string, p Policy) (state.Replication, error) {
	if err := p.validate(); err != nil {
		return state.Replication{}, err
	}
	vm, err := s.findVM(ctx, vmRef)
	if err != nil {
		return state.Replication{}, err
	}
	if r, err := s.store.GetReplication(ctx, vm.ID); err == nil && r.State != state.ReplDisabled {
		if r.State != state.ReplInitialCopy {
			return r, fmt.Errorf("%w: vm %s is already %s", ErrState, vm.Name, r.State)
		}
		return r, s.sendEnable(ctx, r)
	}
	r, err := s.newReplication(ctx, vm, p)
	if err != nil {
		return r, err
	}
	if err := s.createReplicas(ctx, r); err != nil {
		return r, err
	}
	if r, err = s.store.PutReplication(ctx, r); err != nil {
		return r, err
	}
	s.log.Info("replication enabled", "vm_id", r.VMID, "disks", len(r.Disks), "generation", r.Generation)
	defer s.notify()
	return r, s.sendEnable(ctx, r)
}

// findVM looks a VM up in the inventory by id, else by unique name.
func (s *Service) findVM(ctx context.Context, ref string) (state.VM, error) {
	vms, err := s.store.VMs(ctx, "")
	if err != nil {
		return state.VM{}, err
	}
	var byName []state.VM
	for _, vm := range vms {
		if vm.ID == ref {
			return vm, nil
		}
		if vm.Name == ref {
			byName = append(byName, vm)
		}
	}
	switch len(byName) {
	case 0:
		return state.VM{}, fmt.Errorf("vm %q: %w", ref, state.ErrNotFound)
	case 1:
		return byName[0], nil
	}
	return state.VM{}, fmt.Errorf("%w: %d vms are named %q; use the vm id", ErrInvalid, len(byName), ref)
}

// newReplication builds the row of a new replication after checking ids
// and sizes.
func (s *Service) newReplication(ctx context.Context, vm state.VM, p Policy) (state.Replication, error) {
	if _, err := ParseID(vm.ID); err != nil {
		return state.Replication{}, err
	}
	host, err := s.store.GetHost(ctx, vm.HostID)
	if err != nil {
		return state.Replication{}, err
	}
	now := s.cfg.Now()
	r := state.Replication{VMID: vm.ID, HostID: vm.HostID, ProjectID: host.ProjectID, Name: vm.Name,
		State: state.ReplInitialCopy, Interval: p.Interval, Threads: p.Threads, KeepLatest: p.KeepLatest,
		KeepWindow: p.KeepWindow, KeepInterval: p.KeepInterval, Health: "ok", CreatedAt: now, UpdatedAt: now}
	for _, d := range vm.Disks {
		if slices.Contains(p.ExcludeDisks, d.ID) {
			continue
		}
		if _, err := ParseID(d.ID); err != nil {
			return r, err
		}
		if d.SizeBytes == 0 || d.SizeBytes%delta.SectorSize != 0 || d.SizeBytes > vhd.MaxAzureSize {
			return r, fmt.Errorf("%w: disk %s size %d is not a multiple of 512 up to 32 TiB", ErrInvalid, d.ID, d.SizeBytes)
		}
		r.Disks = append(r.Disks, state.ReplicationDisk{DiskID: d.ID, Name: d.Name, SizeBytes: int64(d.SizeBytes)})
	}
	if len(r.Disks) == 0 {
		return r, fmt.Errorf("%w: vm %s has no disk left to replicate", ErrInvalid, vm.Name)
	}
	for _, x := range p.ExcludeDisks {
		if !slices.ContainsFunc(vm.Disks, func(d state.Disk) bool { return d.ID == x }) {
			return r, fmt.Errorf("%w: vm %s has no disk %q to exclude", ErrInvalid, vm.Name, x)
		}
	}
	return r, nil
}

// createReplicas makes the containers and every disk's zeroed replica
// page blob with its fixed-VHD footer. Repeating it is harmless.
func (s *Service) createReplicas(ctx context.Context, r state.Replication) error {
	for _, c := range []string{s.layout.ReplicasContainer(r.ProjectID), s.layout.CyclesContainer(r.ProjectID)} {
		if err := s.ctrs.Ensure(ctx, c); err != nil {
			return err
		}
	}
	vmID, _ := ParseID(r.VMID)
	for _, d := range r.Disks {
		diskID, _ := ParseID(d.DiskID)
		name := full(s.layout.ReplicasContainer(r.ProjectID), s.layout.ReplicaBlob(vmID, diskID))
		size := vhd.ReplicaSize(d.SizeBytes)
		if err := s.blobs.CreatePageBlob(ctx, name, size+vhd.FooterSize); err != nil {
			return fmt.Errorf("create replica of disk %s: %w", d.DiskID, err)
		}
		footer, err := vhd.AzureFixedFooter(size, vdisk.GUID(diskID), r.CreatedAt.Truncate(time.Second))
		if err != nil {
			return fmt.Errorf("footer of disk %s: %w", d.DiskID, err)
		}
		if err := s.blobs.PutPages(ctx, name, size, footer, storage.CRC64(footer), storage.Cond{}); err != nil {
			return fmt.Errorf("write footer of disk %s: %w", d.DiskID, err)
		}
	}
	return nil
}

// sendEnable issues the grants and queues EnableReplication.
func (s *Service) sendEnable(ctx context.Context, r state.Replication) error {
	grants, err := s.issueGrants(ctx, r)
	if err != nil {
		return err
	}
	ids := make([]string, len(r.Disks))
	for i, d := range r.Disks {
		ids[i] = d.DiskID
	}
	cmd := stream.Command{ID: fmt.Sprintf("enable-%s-g%d", r.VMID, r.Generation), EnableReplication: &stream.EnableReplication{
		VMID: r.VMID, Interval: r.Interval, Threads: uint32(r.Threads), DiskIDs: ids, SAS: grants}}
	if err := s.enqueue(ctx, r.HostID, cmd); err != nil {
		return fmt.Errorf("queue enable for vm %s: %w", r.VMID, err)
	}
	return nil
}

// Disable stops replicating a VM and tells its host to stop and clean up.
// Replicas and recovery points stay.
func (s *Service) Disable(ctx context.Context, vmRef string) (state.Replication, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return r, err
	}
	r, err = s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		if r.State == state.ReplMigrating {
			return fmt.Errorf("%w: vm %s is migrating", ErrState, r.Name)
		}
		r.State, r.UpdatedAt = state.ReplDisabled, s.cfg.Now()
		return nil
	})
	if err != nil {
		return r, err
	}
	defer s.notify()
	cmd := stream.Command{ID: fmt.Sprintf("disable-%s-g%d", r.VMID, r.Generation), DisableReplication: &stream.VMCommand{VMID: r.VMID}}
	return r, s.enqueue(ctx, r.HostID, cmd)
}

// Resync asks the host to compare source and replica and send the
// differences; the replica write grants are issued again for it.
func (s *Service) Resync(ctx context.Context, vmRef string) (state.Replication, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return r, err
	}
	if r.State == state.ReplMigrating {
		if err := s.dropFailedMigration(ctx, r); err != nil {
			return r, err
		}
	} else if r.State != state.ReplReplicating && r.State != state.ReplInitialCopy {
		return r, fmt.Errorf("%w: vm %s is %s", ErrState, r.Name, r.State)
	}
	r, err = s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		r.State, r.UpdatedAt = state.ReplInitialCopy, s.cfg.Now()
		return nil
	})
	if err != nil {
		return r, err
	}
	if err := s.refreshGrants(ctx, r); err != nil {
		return r, err
	}
	defer s.notify()
	cmd := stream.Command{ID: fmt.Sprintf("resync-%s-%d", r.VMID, s.cfg.Now().UnixNano()), Resync: &stream.VMCommand{VMID: r.VMID}}
	return r, s.enqueue(ctx, r.HostID, cmd)
}

// replicationOf finds a replication by VM id or name.
func (s *Service) replicationOf(ctx context.Context, ref string) (state.Replication, error) {
	r, err := s.store.GetReplication(ctx, ref)
	if err == nil || !errors.Is(err, state.ErrNotFound) {
		return r, err
	}
	all, err := s.store.Replications(ctx)
	if err != nil {
		return r, err
	}
	for _, x := range all {
		if x.Name == ref {
			return x, nil
		}
	}
	return r, fmt.Errorf("replication of vm %q: %w", ref, state.ErrNotFound)
}

// dropFailedMigration forgets a migration whose verification failed, so
// that a resync can repair the replica before the next attempt.
func (s *Service) dropFailedMigration(ctx context.Context, r state.Replication) error {
	m, err := s.loadMigration(ctx, r.VMID)
	if err != nil || m.Step != StepFailed {
		return fmt.Errorf("%w: vm %s is migrating", ErrState, r.Name)
	}
	return s.store.DeleteOperation(ctx, migrationID(r.VMID))
}
