package hyperv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hvmigrate/provider/internal/host"
)

// StartTracking turns Hyper-V Replica change tracking on for the VM.
func (b *Backend) StartTracking(ctx context.Context, vmID string) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	if trackingOn(r.Replication) {
		return nil
	}
	return b.startTracking(ctx, r)
}

// startTracking creates the replication relationship towards the
// configured provider and starts replication, which opens the first log of
// every disk.
func (b *Backend) startTracking(ctx context.Context, r vmRecord) error {
	if b.cfg.ReplicationProvider == "" {
		return fmt.Errorf("vm %s: start tracking: no replication provider configured: %w", r.ID, host.ErrUnsupported)
	}
	if r.Replication.Mode > 1 {
		return fmt.Errorf("vm %s: start tracking: vm is a replica (mode %d): %w", r.ID, r.Replication.Mode, host.ErrUnsupported)
	}
	s := trackingSettings{
		Provider:        b.cfg.ReplicationProvider,
		IntervalSeconds: uint16(b.cfg.ReplicationInterval / time.Second),
	}
	for _, d := range vhdDisks(r) {
		s.DiskPaths = append(s.DiskPaths, d.Path)
	}
	created := false
	if r.Replication.Mode == 0 {
		err := b.invoke(ctx, "enable replication of vm "+r.ID, b.cfg.JobTimeout, func() (callResult, error) {
			return b.w.createRelationship(ctx, r.ID, s)
		})
		if err != nil {
			return err
		}
		created = true
	}
	err := b.invoke(ctx, "start replication of vm "+r.ID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.startReplication(ctx, r.ID)
	})
	if err != nil && created {
		if rbErr := b.stopTracking(ctx, r.ID); rbErr != nil {
			err = errors.Join(err, fmt.Errorf("roll back replication relationship: %w", rbErr))
		}
	}
	return err
}

// StopTracking removes the VM's replication relationship. With removeLogs,
// any .hrl files left beside its disks are deleted too.
func (b *Backend) StopTracking(ctx context.Context, vmID string, removeLogs bool) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	if r.Replication.Mode != 0 {
		if err := b.stopTracking(ctx, vmID); err != nil {
			return err
		}
	}
	b.forget(ctx, r)
	if !removeLogs {
		return nil
	}
	return b.removeLogs(ctx, r)
}

func (b *Backend) stopTracking(ctx context.Context, vmID string) error {
	return b.invoke(ctx, "disable replication of vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.removeRelationship(ctx, vmID)
	})
}

// forget drops what the backend remembers of the VM's log chains.
func (b *Backend) forget(ctx context.Context, r vmRecord) {
	var ids []string
	for _, d := range vhdDisks(r) {
		if info, err := b.disk(ctx, d.Path); err == nil {
			ids = append(ids, info.ID)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.resync, r.ID)
	for _, id := range ids {
		delete(b.tails, id)
	}
}

// removeLogs deletes every log of every disk of the VM.
func (b *Backend) removeLogs(ctx context.Context, r vmRecord) error {
	var errs []error
	for _, d := range vhdDisks(r) {
		info, err := b.disk(ctx, d.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		dir, stem := b.logDir(info.Base)
		logs, err := query(ctx, b, "list logs in "+dir, func() ([]logFile, error) { return b.w.listLogs(ctx, dir, stem) })
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range logs {
			if err := b.w.removeFile(ctx, l.Path); err != nil {
				errs = append(errs, fmt.Errorf("remove log %s: %w", l.Path, err))
			}
		}
	}
	return errors.Join(errs...)
}

// AcknowledgeResync clears the backend's own lost-track mark for the VM
// and the log chain positions it remembers, and, when Hyper-V Replica itself waits for a resynchronization, asks it
// to resynchronize so that tracking resumes.
func (b *Backend) AcknowledgeResync(ctx context.Context, vmID string) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	if !trackingOn(r.Replication) {
		return fmt.Errorf("vm %s: acknowledge resync: %w", vmID, host.ErrTrackingOff)
	}
	if resyncReason(r.Replication) != "" {
		err := b.invoke(ctx, "resynchronize vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
			return b.w.resynchronize(ctx, vmID)
		})
		if err != nil {
			return err
		}
	}
	b.forget(ctx, r)
	return nil
}
