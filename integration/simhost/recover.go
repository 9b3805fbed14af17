package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hvmigrate/shared/hrl"
)

// loadVM loads a VM's record and repairs what an interrupted daemon left:
// half-made or half-merged checkpoints and open change tracking logs.
func (d *Daemon) loadVM(dir string) (*vm, error) {
	rec, err := loadRecord(dir)
	if err != nil {
		return nil, err
	}
	v := &vm{dir: dir, cfg: &d.cfg, rec: rec, log: d.log.With("vm_id", rec.ID)}
	for i, r := range rec.Disks {
		v.disks = append(v.disks, &disk{index: i, rec: r})
	}
	if err := v.recoverCheckpoint(); err != nil {
		return nil, err
	}
	if rec.Power != PowerOff {
		rec.Power = PowerRunning
		if err := v.openImages(); err != nil {
			return nil, err
		}
		v.startRun()
	}
	if rec.Tracking.Enabled {
		if err := v.recoverLogs(); err != nil {
			v.closeAll()
			return nil, err
		}
	}
	if err := v.persist(); err != nil {
		v.closeAll()
		return nil, err
	}
	return v, nil
}

// closeAll closes every writer and log after a failed load.
func (v *vm) closeAll() {
	for _, dk := range v.disks {
		dk.closeImage(false)
		dk.closeLog()
	}
}

// recoverCheckpoint finishes the bookkeeping of a merge that completed on
// a disk before the record said so, write-protects frozen parents again,
// and removes children a failed checkpoint left unrecorded.
func (v *vm) recoverCheckpoint() error {
	for _, dk := range v.disks {
		r := dk.rec
		if r.Frozen != "" {
			if _, err := os.Stat(v.path(r.Top)); errors.Is(err, os.ErrNotExist) {
				v.log.Warn("checkpoint merge had completed; recording it", "disk", dk.index)
				r.Top, r.Frozen = r.Frozen, ""
			} else if err := os.Chmod(v.path(r.Frozen), frozenMode); err != nil {
				return err
			}
		}
		if r.Frozen == "" {
			if err := os.Chmod(v.path(r.Top), writableMode); err != nil {
				return err
			}
		}
		if err := v.removeStrayChildren(dk); err != nil {
			return err
		}
	}
	if v.rec.Checkpoint != nil && v.disks[0].rec.Frozen == "" {
		v.rec.Checkpoint = nil
	}
	return nil
}

// removeStrayChildren deletes AVHDX files of the disk that the record does
// not name (a checkpoint interrupted before it was recorded).
func (v *vm) removeStrayChildren(dk *disk) error {
	paths, err := filepath.Glob(filepath.Join(v.path(dk.rec.ID), "*.avhdx"))
	if err != nil {
		return err
	}
	for _, p := range paths {
		if p != v.path(dk.rec.Top) {
			v.log.Warn("removing an unrecorded checkpoint child", "path", p)
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// recoverLogs checks the logs the record says were open. A log that is
// not cleanly closed means writes may be missing from the chain: the VM is
// flagged for resync and every disk starts a fresh chain. Then every disk
// gets a new open log.
func (v *vm) recoverLogs() error {
	var broken []string
	for _, dk := range v.disks {
		cur := dk.rec.Log.Current
		if cur == "" {
			continue
		}
		id, err := checkClosed(v.path(cur), dk.rec)
		if err != nil {
			broken = append(broken, fmt.Sprintf("disk %d: log %s was not closed (%v)", dk.index, v.path(cur), err))
			continue
		}
		dk.rec.Log.Pending = append(dk.rec.Log.Pending, cur)
		dk.rec.Log.LastClosedID = id
		dk.rec.Log.Current, dk.rec.Log.CurrentID = "", ""
	}
	if len(broken) > 0 {
		v.restartChain("the daemon stopped without closing change tracking logs: " + strings.Join(broken, "; "))
	}
	for _, dk := range v.disks {
		if err := v.openLog(dk); err != nil {
			return err
		}
	}
	return nil
}

// checkClosed opens a log as a reader would and returns its UniqueId.
func checkClosed(path string, r *diskRecord) (string, error) {
	opts := hrl.DefaultOptions()
	opts.DiskSize, opts.SectorSize = r.Size, r.LogicalSectorSize
	l, err := hrl.Open(path, opts)
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Header().UniqueID.String(), nil
}
