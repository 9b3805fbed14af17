package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"hvmigrate/shared/vhdx"
)

// Modes of frozen parents and of writable disk files.
const (
	frozenMode   = 0o444
	writableMode = 0o644
)

// CreateCheckpoint freezes every disk of the VM at one instant: the
// current top files become read-only parents and new writes go to AVHDX
// children. With spec.StartTracking, change tracking starts at the same
// instant. A VM has at most one checkpoint.
func (d *Daemon) CreateCheckpoint(id string, spec CheckpointSpec) (CheckpointInfo, error) {
	v, err := d.lookup(id)
	if err != nil {
		return CheckpointInfo{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if c := v.rec.Checkpoint; c != nil {
		return CheckpointInfo{}, fmt.Errorf("checkpoint vm %s: %w (%s, made %s): delete it first", id, ErrCheckpointExists, c.ID, c.CreatedAt.Format(time.RFC3339))
	}
	if spec.StartTracking && v.rec.Tracking.Enabled {
		return CheckpointInfo{}, fmt.Errorf("checkpoint vm %s: %w", id, ErrTrackingOn)
	}
	for _, dk := range v.disks {
		if !dk.rec.Format.IsVHDX() {
			return CheckpointInfo{}, fmt.Errorf("checkpoint vm %s: disk %d is a %s: %w: checkpoints need VHDX disks", id, dk.index, dk.rec.Format, ErrUnsupported)
		}
	}
	info := CheckpointInfo{ID: uuid.NewString(), Name: spec.Name, CreatedAt: time.Now().UTC()}
	if info.Name == "" {
		info.Name = v.rec.Name + " - " + info.CreatedAt.Format("2006-01-02 15:04:05")
	}
	if err := v.freeze(info.ID); err != nil {
		return CheckpointInfo{}, fmt.Errorf("checkpoint vm %s: %w", id, err)
	}
	v.rec.Checkpoint = &info
	v.keepCheckpoint(info.ID)
	if spec.StartTracking {
		err = v.startTracking()
	} else {
		err = v.rollLogs()
	}
	if err != nil {
		return CheckpointInfo{}, errors.Join(err, v.persist())
	}
	v.log.Info("checkpoint created", "checkpoint_id", info.ID, "tracking", spec.StartTracking)
	return info, v.persist()
}

// freeze makes every disk's top a read-only parent with a new child; on
// failure the disks already frozen are thawed again.
func (v *vm) freeze(ckptID string) error {
	running := v.rec.Power == PowerRunning
	for i, dk := range v.disks {
		if err := v.freezeDisk(dk, ckptID, running); err != nil {
			for _, o := range v.disks[:i] {
				v.thawDisk(o, running)
			}
			return fmt.Errorf("disk %d: %w", i, err)
		}
	}
	return nil
}

// freezeDisk closes the disk's writer, write-protects its top file and
// puts a differencing child on it.
func (v *vm) freezeDisk(dk *disk, ckptID string, running bool) error {
	if err := dk.closeImage(true); err != nil {
		return err
	}
	parent := dk.rec.Top
	child := filepath.Join(dk.rec.ID, "disk_"+ckptID+".avhdx")
	if err := os.Chmod(v.path(parent), frozenMode); err != nil {
		return errors.Join(err, v.reopen(dk, running))
	}
	w, err := vhdx.CreateDifferencing(v.path(child), v.path(parent), vhdx.CreateOptions{})
	if err != nil {
		os.Chmod(v.path(parent), writableMode)
		return errors.Join(err, v.reopen(dk, running))
	}
	dk.rec.Frozen, dk.rec.Top = parent, child
	if !running {
		return w.Close()
	}
	if err := startSession(w); err != nil {
		return err
	}
	dk.mu.Lock()
	dk.img = w
	dk.mu.Unlock()
	return nil
}

// thawDisk undoes freezeDisk after a later disk failed.
func (v *vm) thawDisk(dk *disk, running bool) {
	dk.closeImage(false)
	os.Remove(v.path(dk.rec.Top))
	dk.rec.Top, dk.rec.Frozen = dk.rec.Frozen, ""
	os.Chmod(v.path(dk.rec.Top), writableMode)
	if err := v.reopen(dk, running); err != nil {
		v.log.Error("reopening disk after a failed checkpoint", "disk", dk.index, "error", err)
	}
}

// reopen opens the disk's top for writing again if the VM runs.
func (v *vm) reopen(dk *disk, running bool) error {
	if !running {
		return nil
	}
	img, err := openWriter(v.path(dk.rec.Top), dk.rec.Format)
	if err != nil {
		return err
	}
	dk.mu.Lock()
	dk.img = img
	dk.mu.Unlock()
	return nil
}

// DeleteCheckpoint merges every disk's child back into its parent, as
// Hyper-V does when a checkpoint is deleted. Writes wait meanwhile; change
// tracking continues.
func (d *Daemon) DeleteCheckpoint(id string) error {
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.rec.Checkpoint == nil {
		return fmt.Errorf("delete checkpoint of vm %s: %w", id, ErrNoCheckpoint)
	}
	running := v.rec.Power == PowerRunning
	for _, dk := range v.disks {
		if err := v.mergeDisk(dk, running); err != nil {
			return fmt.Errorf("delete checkpoint of vm %s: disk %d: %w (run it again to finish)", id, dk.index, err)
		}
		if err := v.persist(); err != nil {
			return err
		}
	}
	v.log.Info("checkpoint deleted", "checkpoint_id", v.rec.Checkpoint.ID)
	v.rec.Checkpoint = nil
	return errors.Join(v.rollLogs(), v.persist())
}

// mergeDisk folds the disk's child into its parent and makes the parent
// the top again.
func (v *vm) mergeDisk(dk *disk, running bool) error {
	if dk.rec.Frozen == "" {
		return nil
	}
	if err := dk.closeImage(true); err != nil {
		return err
	}
	if err := os.Chmod(v.path(dk.rec.Frozen), writableMode); err != nil {
		return errors.Join(err, v.reopen(dk, running))
	}
	if err := vhdx.Merge(v.path(dk.rec.Top)); err != nil {
		os.Chmod(v.path(dk.rec.Frozen), frozenMode)
		return errors.Join(err, v.reopen(dk, running))
	}
	dk.rec.Top, dk.rec.Frozen = dk.rec.Frozen, ""
	return v.reopen(dk, running)
}

// GetFrozenDisks returns the read-only parents of the VM's checkpoint.
func (d *Daemon) GetFrozenDisks(id string) ([]FrozenDisk, error) {
	v, err := d.lookup(id)
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rec.Checkpoint == nil {
		return nil, fmt.Errorf("frozen disks of vm %s: %w: create a checkpoint first", id, ErrNoCheckpoint)
	}
	out := make([]FrozenDisk, 0, len(v.disks))
	for _, dk := range v.disks {
		out = append(out, FrozenDisk{Index: dk.index, DiskID: dk.rec.ID, Path: v.path(dk.rec.Frozen), Size: dk.rec.Size})
	}
	return out, nil
}
