package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxReleasePaths bounds the logs one ReleaseLogs call may name.
const maxReleasePaths = 4096

// ReleaseLogs deletes closed logs of the VM's disks that a switch handed
// out and the caller no longer needs. Each path must name a log file in
// the log folder of one of the VM's disks; the open log and closed logs
// not yet handed out are refused, as is anything else, before any file is
// deleted. A log already gone counts as released, so a repeat is
// harmless. It returns how many files it deleted.
func (d *Daemon) ReleaseLogs(id string, paths []string) (int, error) {
	if len(paths) > maxReleasePaths {
		return 0, fmt.Errorf("release logs of vm %s: %w: %d paths, at most %d", id, ErrInvalid, len(paths), maxReleasePaths)
	}
	v, err := d.lookup(id)
	if err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range paths {
		if err := v.releasable(p); err != nil {
			return 0, fmt.Errorf("release logs of vm %s: %w", id, err)
		}
	}
	deleted := 0
	var errs []error
	for _, p := range paths {
		err := os.Remove(p)
		switch {
		case err == nil:
			deleted++
		case !errors.Is(err, os.ErrNotExist):
			errs = append(errs, err)
		}
	}
	if deleted > 0 {
		v.log.Debug("logs released", "deleted", deleted, "asked", len(paths))
	}
	if err := errors.Join(errs...); err != nil {
		return deleted, fmt.Errorf("release logs of vm %s: %w", id, err)
	}
	return deleted, nil
}

// releasable checks that p is a closed, handed-out log of one of the VM's
// disks; v.mu must be held.
func (v *vm) releasable(p string) error {
	clean := filepath.Clean(p)
	if clean != p || filepath.Ext(p) != ".hrl" {
		return fmt.Errorf("%w: %q is not the path of a change tracking log", ErrInvalid, p)
	}
	for _, dk := range v.disks {
		dir := v.path(dk.rec.ID)
		if filepath.Dir(p) != dir || !strings.HasPrefix(filepath.Base(p), "disk_") {
			continue
		}
		l := dk.rec.Log
		if l.Current != "" && v.path(l.Current) == p {
			return fmt.Errorf("%w: log %s is open", ErrInvalid, p)
		}
		for _, q := range l.Pending {
			if v.path(q) == p {
				return fmt.Errorf("%w: log %s was not handed out by a switch yet", ErrInvalid, p)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %s is not in the log folder of a disk of vm %s", ErrInvalid, p, v.rec.ID)
}
