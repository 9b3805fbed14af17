package simhost

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// DeleteVM removes a VM that is off, with every file in its directory
// (disks, checkpoints, logs and checksum records).
func (d *Daemon) DeleteVM(id string) error {
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.rec.Power != PowerOff {
		return fmt.Errorf("delete vm %s: %w: stop it first", id, ErrRunning)
	}
	for _, dk := range v.disks {
		dk.closeLog()
	}
	d.mu.Lock()
	delete(d.vms, id)
	d.mu.Unlock()
	if err := os.RemoveAll(v.dir); err != nil {
		return fmt.Errorf("delete vm %s: %w", id, err)
	}
	v.log.Info("vm deleted")
	return nil
}

// StartVM powers a VM on: its disks are opened for writing. Starting a
// running VM does nothing.
func (d *Daemon) StartVM(id string) error {
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	switch v.rec.Power {
	case PowerRunning:
		return nil
	case PowerStopping:
		return fmt.Errorf("start vm %s: %w: it is stopping; retry when it is off", id, ErrRunning)
	}
	if err := v.openImages(); err != nil {
		return fmt.Errorf("start vm %s: %w", id, err)
	}
	v.rec.Power = PowerRunning
	v.startRun()
	v.log.Info("vm started")
	return errors.Join(v.rollLogs(), v.persist())
}

// startRun creates the run state; v.mu must be held.
func (v *vm) startRun() {
	ctx, cancel := context.WithCancel(context.Background())
	v.run = &runState{ctx: ctx, cancel: cancel}
}

// openImages opens every disk's top file for writing; v.mu must be held.
func (v *vm) openImages() error {
	for i, dk := range v.disks {
		img, err := openWriter(v.path(dk.rec.Top), dk.rec.Format)
		if err != nil {
			for _, o := range v.disks[:i] {
				o.closeImage(false)
			}
			return fmt.Errorf("disk %d: %w", i, err)
		}
		dk.mu.Lock()
		dk.img = img
		dk.mu.Unlock()
	}
	return nil
}

// StopVM powers a VM off. StopShutdown waits for running workloads and
// in-flight writes, then flushes disks and logs; StopTurnOff ends
// workloads at once. Open change tracking logs stay open until the next
// switch. Stopping a VM that is off does nothing.
func (d *Daemon) StopVM(id string, mode StopMode) error {
	if mode != StopShutdown && mode != StopTurnOff {
		return fmt.Errorf("stop mode %q: %w: want %s or %s", mode, ErrInvalid, StopShutdown, StopTurnOff)
	}
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	if v.rec.Power != PowerRunning {
		v.mu.Unlock()
		return nil
	}
	v.rec.Power = PowerStopping
	run := v.run
	v.run = nil
	v.mu.Unlock()
	if run != nil {
		run.cancel()
		run.wg.Wait()
	}
	return v.finishStop(mode == StopShutdown)
}

// finishStop closes the disks and records the VM as off.
func (v *vm) finishStop(graceful bool) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	for _, dk := range v.disks {
		errs = append(errs, dk.closeImage(graceful))
		if graceful {
			errs = append(errs, dk.flushLog())
		}
	}
	v.rec.Power = PowerOff
	errs = append(errs, v.persist())
	v.log.Info("vm stopped", "graceful", graceful)
	return errors.Join(errs...)
}
