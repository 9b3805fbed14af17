package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"hvmigrate/shared/hrl"
)

// openLog starts the disk's next log, chained to the newest closed one
// (a fresh chain when there is none). v.mu must be held exclusively.
func (v *vm) openLog(dk *disk) error {
	var prev hrl.GUID
	if id := dk.rec.Log.LastClosedID; id != "" {
		var err error
		if prev, err = hrl.ParseGUID(id); err != nil {
			return fmt.Errorf("disk %d: previous log id: %w", dk.index, err)
		}
	}
	img, done, err := v.image(dk)
	if err != nil {
		return fmt.Errorf("disk %d: %w", dk.index, err)
	}
	dwg := img.Identity().DataWriteGUID
	done()
	opts := hrl.DefaultWriterOptions()
	opts.PreviousUniqueID, opts.DataWriteGUID = prev, hrl.GUIDFromCanonical(dwg)
	// CreatorApplication tags the logs the simhost writes.
	opts.Sync, opts.CreatorApplication, opts.LeadingEmptyBlock = v.cfg.SyncLogs, [4]byte{'s', 'i', 'm', 0}, true
	for {
		dk.rec.Log.Seq++
		rel := filepath.Join(dk.rec.ID, fmt.Sprintf("disk_%06d.hrl", dk.rec.Log.Seq))
		w, err := hrl.Create(v.path(rel), opts)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("disk %d: start change tracking log: %w", dk.index, err)
		}
		dk.mu.Lock()
		dk.log, dk.logErr = w, nil
		dk.mu.Unlock()
		dk.rec.Log.Current, dk.rec.Log.CurrentID = rel, w.UniqueID().String()
		return nil
	}
}

// closeLogPending closes the disk's open log and queues it for the next
// switch. v.mu must be held exclusively.
func (v *vm) closeLogPending(dk *disk) error {
	err := dk.closeLog()
	if err == nil {
		err = dk.logErr
	}
	if err != nil {
		return fmt.Errorf("disk %d: log %s: %w", dk.index, v.path(dk.rec.Log.Current), err)
	}
	if dk.rec.Log.Current != "" {
		dk.rec.Log.Pending = append(dk.rec.Log.Pending, dk.rec.Log.Current)
		dk.rec.Log.LastClosedID = dk.rec.Log.CurrentID
	}
	dk.rec.Log.Current, dk.rec.Log.CurrentID = "", ""
	return nil
}

// closeLogsPending closes every disk's open log; v.mu must be held.
func (v *vm) closeLogsPending() error {
	var errs []error
	for _, dk := range v.disks {
		errs = append(errs, v.closeLogPending(dk))
	}
	return errors.Join(errs...)
}

// closeLog closes the open log writer, if any.
func (dk *disk) closeLog() error {
	dk.mu.Lock()
	defer dk.mu.Unlock()
	if dk.log == nil {
		return nil
	}
	err := dk.log.Close()
	dk.log = nil
	return err
}

// flushLog seals and syncs what the open log holds, keeping it open.
func (dk *disk) flushLog() error {
	dk.mu.Lock()
	defer dk.mu.Unlock()
	if dk.log == nil || dk.logErr != nil {
		return nil
	}
	if err := dk.log.Flush(); err != nil {
		dk.logErr = err
		return fmt.Errorf("disk %d: flush log: %w", dk.index, err)
	}
	return nil
}

// restartChain forgets the log chain of every disk (after a failure that
// left it with a gap) and flags the VM for resynchronisation. v.mu must be
// held exclusively.
func (v *vm) restartChain(reason string) {
	v.rec.NeedsResync = true
	if v.rec.ResyncReason == "" {
		v.rec.ResyncReason = reason
	} else {
		v.rec.ResyncReason += "; " + reason
	}
	for _, dk := range v.disks {
		dk.closeLog()
		dk.rec.Log.Current, dk.rec.Log.CurrentID = "", ""
		dk.rec.Log.LastClosedID, dk.rec.Log.Pending = "", nil
	}
	v.log.Warn("vm needs a resync; change tracking restarts with a fresh log chain", "reason", reason)
}

// rollLogs closes every open log (queued for the next switch) and opens
// the next ones, when tracking is on: called when the tracked files start
// a new write session (VM start, checkpoint, merge), so that every log
// holds the writes of one session and carries that session's
// DataWriteGuid. v.mu must be held exclusively.
func (v *vm) rollLogs() error {
	if !v.rec.Tracking.Enabled {
		return nil
	}
	if err := v.closeLogsPending(); err != nil {
		v.restartChain(fmt.Sprintf("closing logs at a new write session: %v", err))
	}
	for _, dk := range v.disks {
		if err := v.openLog(dk); err != nil {
			return err
		}
	}
	return nil
}
