package simhost

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/shared/hrl"
	"hvmigrate/shared/vdisk"
)

// vm is the runtime of one VM. mu is held shared by guest writes and
// exclusively by everything that must happen at one instant.
type vm struct {
	dir string
	cfg *Config
	log hclog.Logger

	mu    sync.RWMutex
	rec   *vmRecord
	disks []*disk
	run   *runState // nil while the VM is off
}

// runState is what exists only while the VM runs: its workloads.
type runState struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// disk is the runtime of one disk. mu orders a guest write and its log
// record, so the disk and the log see the same order.
type disk struct {
	index int
	rec   *diskRecord

	mu     sync.Mutex
	img    diskImage   // nil while the VM is off
	log    *hrl.Writer // nil while tracking is off
	logErr error       // the first failure to record a write
}

func (v *vm) path(rel string) string { return filepath.Join(v.dir, rel) }

// persist writes the VM record; v.mu must be held exclusively (or the VM
// not yet published).
func (v *vm) persist() error {
	return writeJSONAtomic(filepath.Join(v.dir, recordFile), v.rec)
}

// view renders the inventory under the shared lock.
func (v *vm) view() VM {
	v.mu.RLock()
	defer v.mu.RUnlock()
	r := v.rec
	out := VM{
		ID: r.ID, Name: r.Name, Generation: r.Generation, CPUs: r.CPUs, MemoryBytes: r.MemoryBytes,
		NICs: append([]NIC(nil), r.NICs...), Power: r.Power, NeedsResync: r.NeedsResync,
		ResyncReason: r.ResyncReason, CreatedAt: r.CreatedAt,
		Tracking: TrackingInfo{Enabled: r.Tracking.Enabled, LastSwitch: r.Tracking.LastSwitch, StartedAt: r.Tracking.StartedAt},
	}
	if r.Checkpoint != nil {
		c := *r.Checkpoint
		out.Checkpoint = &c
	}
	for _, dk := range v.disks {
		out.Disks = append(out.Disks, v.diskView(dk))
	}
	return out
}

func (v *vm) diskView(dk *disk) Disk {
	r := dk.rec
	out := Disk{
		Index: dk.index, ID: r.ID, Path: v.path(r.Top), BasePath: v.path(r.Base), Format: r.Format,
		Size: r.Size, LogicalSectorSize: r.LogicalSectorSize,
	}
	if r.Log.Current != "" {
		out.CurrentLog = v.path(r.Log.Current)
	}
	img, closeImg, err := v.image(dk)
	if err != nil {
		v.log.Warn("cannot open disk for inventory", "disk", dk.index, "error", err)
		return out
	}
	defer closeImg()
	out.PhysicalSectorSize, out.Identity = img.PhysicalSectorSize(), img.Identity()
	return out
}

// image returns a readable view of the disk now: its open writer while
// the VM runs, else the top file opened read-only (closed by the returned
// function).
func (v *vm) image(dk *disk) (vdisk.Image, func(), error) {
	dk.mu.Lock()
	img := dk.img
	dk.mu.Unlock()
	if img != nil {
		return img, func() {}, nil
	}
	ro, err := openImage(v.path(dk.rec.Top))
	if err != nil {
		return nil, nil, err
	}
	return ro, func() { ro.Close() }, nil
}

// shutdownDaemon stops the VM's workloads and closes its disks and logs
// because the daemon stops; the record keeps the power state.
func (v *vm) shutdownDaemon() error {
	if run := v.takeRun(); run != nil {
		run.cancel()
		run.wg.Wait()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	for _, dk := range v.disks {
		errs = append(errs, dk.closeImage(true))
	}
	if v.rec.Tracking.Enabled {
		errs = append(errs, v.closeLogsPending())
	}
	if err := errors.Join(errs...); err != nil {
		v.log.Error("closing vm at daemon stop", "error", err)
		return fmt.Errorf("vm %s: %w", v.rec.ID, err)
	}
	return v.persist()
}

// takeRun detaches the run state (so no new workload starts) and returns it.
func (v *vm) takeRun() *runState {
	v.mu.Lock()
	defer v.mu.Unlock()
	run := v.run
	v.run = nil
	return run
}

// closeImage flushes (when flush) and closes the disk's writer.
func (dk *disk) closeImage(flush bool) error {
	dk.mu.Lock()
	defer dk.mu.Unlock()
	if dk.img == nil {
		return nil
	}
	var err error
	if flush {
		err = dk.img.Flush()
	}
	if cerr := dk.img.Close(); err == nil {
		err = cerr
	}
	dk.img = nil
	if err != nil {
		return fmt.Errorf("disk %d: close: %w", dk.index, err)
	}
	return nil
}
