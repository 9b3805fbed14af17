package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// StartTracking turns change tracking on: from now on every guest write is
// also appended to the disk's open log, a fresh chain per disk.
func (d *Daemon) StartTracking(id string) (TrackingInfo, error) {
	v, err := d.lookup(id)
	if err != nil {
		return TrackingInfo{}, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.startTracking(); err != nil {
		return TrackingInfo{}, err
	}
	if err := v.persist(); err != nil {
		return TrackingInfo{}, err
	}
	return v.trackingInfo(), nil
}

// startTracking opens the first log of every disk; v.mu must be held.
func (v *vm) startTracking() error {
	if v.rec.Tracking.Enabled {
		return fmt.Errorf("start tracking on vm %s: %w", v.rec.ID, ErrTrackingOn)
	}
	for _, dk := range v.disks {
		dk.rec.Log.LastClosedID, dk.rec.Log.Pending = "", nil
		if err := v.openLog(dk); err != nil {
			for _, o := range v.disks {
				o.closeLog()
				o.rec.Log.Current, o.rec.Log.CurrentID = "", ""
			}
			return fmt.Errorf("start tracking on vm %s: %w", v.rec.ID, err)
		}
	}
	v.rec.Tracking.Enabled, v.rec.Tracking.StartedAt = true, time.Now().UTC()
	v.log.Info("change tracking started")
	return nil
}

func (v *vm) trackingInfo() TrackingInfo {
	t := v.rec.Tracking
	return TrackingInfo{Enabled: t.Enabled, LastSwitch: t.LastSwitch, StartedAt: t.StartedAt}
}

// StopTracking turns change tracking off and closes the open logs; with
// removeLogs every log file of the VM's disks is deleted too.
func (d *Daemon) StopTracking(id string, removeLogs bool) error {
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.rec.Tracking.Enabled {
		return fmt.Errorf("stop tracking on vm %s: %w", v.rec.ID, ErrTrackingOff)
	}
	var errs []error
	for _, dk := range v.disks {
		errs = append(errs, dk.closeLog())
		dk.rec.Log.Current, dk.rec.Log.CurrentID, dk.rec.Log.LastClosedID, dk.rec.Log.Pending = "", "", "", nil
		if removeLogs {
			errs = append(errs, removeLogFiles(v.path(dk.rec.ID)))
		}
	}
	v.rec.Tracking.Enabled = false
	errs = append(errs, v.persist())
	v.log.Info("change tracking stopped", "logs_removed", removeLogs)
	return errors.Join(errs...)
}

// removeLogFiles deletes every .hrl file in dir.
func removeLogFiles(dir string) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.hrl"))
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ClearResync lowers the VM's needs-resync flag once the caller has
// resynchronised it.
func (d *Daemon) ClearResync(id string) error {
	v, err := d.lookup(id)
	if err != nil {
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rec.NeedsResync, v.rec.ResyncReason = false, ""
	return v.persist()
}
