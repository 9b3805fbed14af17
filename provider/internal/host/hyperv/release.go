package hyperv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"hvmigrate/provider/internal/host"
)

// ReleaseLogs deletes closed .hrl logs of the VM's disks that a switch
// handed out. Only a file the log folders of the VM's own disks list is
// deleted, and only once Hyper-V has closed it; a path they do not list
// (already deleted) is skipped, so a repeat is harmless. An open log
// named among them is refused before anything is deleted.
func (b *Backend) ReleaseLogs(ctx context.Context, vmID string, logs []string) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	disks, err := b.trackedDisks(ctx, r)
	if err != nil {
		return err
	}
	listed := map[string]logFile{}
	for _, d := range disks {
		ls, err := query(ctx, b, "list logs in "+d.Dir, func() ([]logFile, error) { return b.w.listLogs(ctx, d.Dir, d.Stem) })
		if err != nil {
			return err
		}
		for _, l := range ls {
			listed[l.Path] = l
		}
	}
	var doomed []string
	for _, p := range logs {
		l, ok := listed[p]
		switch {
		case !ok:
			continue
		case !l.Closed || l.Busy:
			return fmt.Errorf("vm %s: release log %s: %w: the log is still open", vmID, p, host.ErrUnsupported)
		}
		doomed = append(doomed, p)
	}
	var errs []error
	for _, p := range doomed {
		if err := b.w.removeFile(ctx, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("vm %s: release logs: %w", vmID, err)
	}
	return nil
}
