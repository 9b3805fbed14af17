package driver

import (
	"context"
	"errors"
	"fmt"
	"os"

	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/replication"
)

// runActions runs the actions of one transition in order, in the
// background, and posts each result (or the first failure) back.
func (l *vmLoop) runActions(acts []replication.Action) {
	if len(acts) == 0 {
		return
	}
	ctx, epoch := l.actx, l.epoch
	l.d.wg.Add(1)
	go func() {
		defer l.d.wg.Done()
		for _, a := range acts {
			ev, err := l.do(ctx, epoch, a)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				l.log.Warn("action failed", "action", a.Name(), "error", err)
				ev = replication.ActionFailed{Action: a.Name(), Err: err.Error(), At: now()}
			}
			if ev != nil {
				l.post(ctx, item{ev: ev, epoch: epoch})
			}
			if err != nil {
				return
			}
		}
	}()
}

// do runs one action and returns the event it yields, if any.
func (l *vmLoop) do(ctx context.Context, epoch uint64, a replication.Action) (replication.Event, error) {
	vmID := l.vmID
	switch a := a.(type) {
	case replication.PrepareCheckpoint:
		return l.prepareCheckpoint(ctx, a)
	case replication.CopyDisk:
		return l.copyDisk(ctx, epoch, a)
	case replication.ResyncDisk:
		return l.resyncDisk(ctx, epoch, a)
	case replication.DeleteCheckpoint:
		return l.deleteCheckpoint(ctx, a)
	case replication.StartTracking:
		return nil, l.hostCall(ctx, func(ctx context.Context) error { return l.d.deps.Host.StartTracking(ctx, vmID) })
	case replication.SwitchLogs:
		return l.switchLogs(ctx, a)
	case replication.UploadCycle:
		return l.uploadCycle(ctx, a)
	case replication.Report:
		return l.report(ctx, a)
	case replication.Health:
		l.d.health(vmID, a.Level, a.Message)
		return nil, nil
	case replication.ShutdownGuest:
		return l.shutdown(ctx, a)
	case replication.Cleanup:
		return l.cleanup(ctx)
	case replication.ReleaseLogs:
		return l.releaseLogs(ctx, a), nil
	case replication.StopTracking:
		return nil, ignore(l.hostCall(ctx, func(ctx context.Context) error { return l.d.deps.Host.StopTracking(ctx, vmID, a.RemoveLogs) }), host.ErrTrackingOff)
	}
	return nil, fmt.Errorf("unknown action %T", a)
}

// call runs one hub call under the call timeout.
func (l *vmLoop) call(ctx context.Context, fn func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, l.d.cfg.CallTimeout)
	defer cancel()
	return fn(cctx)
}

// hostCall runs host calls one at a time per VM, and lets a call that has
// started finish (within the call timeout) even when its epoch ends: a
// switch the host may have made must be over before the next epoch's
// checkpoint, or the logs it closed could hold writes after it.
func (l *vmLoop) hostCall(ctx context.Context, fn func(context.Context) error) error {
	l.hostMu.Lock()
	defer l.hostMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.d.cfg.CallTimeout)
	defer cancel()
	return fn(cctx)
}

// ignore returns nil when err is one of the classes that mean "already
// done".
func ignore(err error, classes ...error) error {
	for _, c := range classes {
		if errors.Is(err, c) {
			return nil
		}
	}
	return err
}

// prepareCheckpoint ends any earlier tracking and checkpoint of the
// provider's own and creates the generation's checkpoint with tracking.
func (l *vmLoop) prepareCheckpoint(ctx context.Context, a replication.PrepareCheckpoint) (replication.Event, error) {
	h, vmID := l.d.deps.Host, l.vmID
	var cp host.Checkpoint
	err := l.hostCall(ctx, func(ctx context.Context) error {
		if err := ignore(h.StopTracking(ctx, vmID, true), host.ErrTrackingOff); err != nil {
			return err
		}
		var err error
		cp, err = h.CreateCheckpoint(ctx, vmID, true)
		if errors.Is(err, host.ErrCheckpointExists) {
			// A checkpoint left by an earlier attempt: merge it and start over.
			if err := h.DeleteCheckpoint(ctx, vmID); err != nil {
				return err
			}
			if err := ignore(h.StopTracking(ctx, vmID, true), host.ErrTrackingOff); err != nil {
				return err
			}
			cp, err = h.CreateCheckpoint(ctx, vmID, true)
		}
		if err != nil {
			return err
		}
		// The copy or resync reads the frozen disks, which hold every write
		// the host may have lost track of before this instant; writes after
		// it go to the new log chain. So the host's loss is acknowledged
		// here, not when the copy ends: a loss after the checkpoint (a
		// tracker crash during the copy) must stay raised and resync again.
		return h.AcknowledgeResync(ctx, vmID)
	})
	if err != nil {
		return nil, err
	}
	return replication.CheckpointCreated{Generation: a.Generation, Frozen: cp.Frozen, Numbered: cp.Numbered, HostSwitch: cp.LastSwitch}, nil
}

func (l *vmLoop) deleteCheckpoint(ctx context.Context, a replication.DeleteCheckpoint) (replication.Event, error) {
	h, vmID := l.d.deps.Host, l.vmID
	err := l.hostCall(ctx, func(ctx context.Context) error {
		return ignore(h.DeleteCheckpoint(ctx, vmID), host.ErrNoCheckpoint)
	})
	if err != nil {
		return nil, err
	}
	return replication.CheckpointDeleted{Generation: a.Generation}, nil
}

// switchLogs switches the VM's logs; with tracking off it reports the
// disks' DataWriteGuids instead, for the machine to judge.
func (l *vmLoop) switchLogs(ctx context.Context, a replication.SwitchLogs) (replication.Event, error) {
	h, vmID := l.d.deps.Host, l.vmID
	var sw host.Switch
	var vm host.VM
	err := l.hostCall(ctx, func(ctx context.Context) error {
		var err error
		if sw, err = l.switchOnce(ctx, a); err != nil && !errors.Is(err, host.ErrTrackingOff) {
			return err
		}
		off := err != nil
		if vm, err = h.VM(ctx, vmID); err == nil && off {
			err = host.ErrTrackingOff
		}
		return err
	})
	guids := map[string]string{}
	for _, d := range vm.Disks {
		guids[d.ID] = d.DataWriteGUID
	}
	if errors.Is(err, host.ErrTrackingOff) {
		return replication.TrackingOff{Cycle: a.Cycle, GUIDs: guids}, nil
	}
	if err != nil {
		return nil, err
	}
	ev := replication.Switched{Cycle: a.Cycle, HostSwitch: sw.Number, At: now(), ResyncNeeded: sw.ResyncNeeded, Reason: sw.Reason}
	for id, logs := range sw.Logs {
		ev.Disks = append(ev.Disks, replication.SwitchedDisk{ID: id, Logs: logs, LogBytes: sizeOf(logs), DataWriteGUID: guids[id]})
	}
	return ev, nil
}

// sizeOf adds up the sizes of the log files; a missing one counts as
// empty (the agent reports it as missing, which resyncs).
func sizeOf(paths []string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func (l *vmLoop) report(ctx context.Context, a replication.Report) (replication.Event, error) {
	// No call timeout: a report returns once the hub has stored the
	// manifest, however long the hub is away; the cycle stays in flight
	// meanwhile (no switch overlaps it), and the epoch's end (a resync,
	// a disable) cancels the wait. A refusal still fails at once.
	err := l.d.deps.Hub.ReportCycle(ctx, a.Manifest)
	if err != nil {
		return nil, fmt.Errorf("report cycle %d: %w", a.Manifest.Cycle, err)
	}
	if a.Manifest.Kind == replication.ManifestBase || a.Manifest.Kind == replication.ManifestResync {
		return replication.BaseReported{Cycle: a.Manifest.Cycle}, nil
	}
	return replication.CycleReported{Cycle: a.Manifest.Cycle, At: now()}, nil
}

func (l *vmLoop) shutdown(ctx context.Context, a replication.ShutdownGuest) (replication.Event, error) {
	if a.Shutdown {
		vmID := l.vmID
		if err := l.hostCall(ctx, func(ctx context.Context) error { return l.d.deps.Host.Shutdown(ctx, vmID, false) }); err != nil {
			return nil, err
		}
	}
	return replication.ShutDown{}, nil
}

// cleanup cancels the VM's jobs, merges the provider's checkpoint and
// stops tracking, removing the logs.
func (l *vmLoop) cleanup(ctx context.Context) (replication.Event, error) {
	h, vmID := l.d.deps.Host, l.vmID
	jobs, err := l.d.deps.Agent.ListJobs(ctx, vmID)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	for _, j := range jobs {
		if !j.State.Final() {
			if _, err := l.d.deps.Agent.CancelJob(ctx, j.ID); err != nil {
				return nil, fmt.Errorf("cancel job %s: %w", j.ID, err)
			}
		}
	}
	err = l.hostCall(ctx, func(ctx context.Context) error {
		if err := ignore(h.DeleteCheckpoint(ctx, vmID), host.ErrNoCheckpoint); err != nil {
			return err
		}
		return ignore(h.StopTracking(ctx, vmID, true), host.ErrTrackingOff)
	})
	if err != nil {
		return nil, err
	}
	return replication.Disabled{}, nil
}
