package hyperv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"hvmigrate/provider/internal/host"
)

// errBrokenChain: a disk's logs do not form one chain from the last log
// handed out, so writes may have been lost.
var errBrokenChain = errors.New("log chain broken")

// trackedDisk is one disk whose logs a switch collects.
type trackedDisk struct {
	ID, Dir, Stem string
}

// SwitchLogs asks the host to switch the logs of every disk of the VM and
// waits until each disk shows at least one newly closed log, then returns
// them in chain order. A broken chain (or Hyper-V Replica asking for a
// resync) is reported as ResyncNeeded, not as an error; the mark stays
// until AcknowledgeResync.
func (b *Backend) SwitchLogs(ctx context.Context, vmID string) (host.Switch, error) {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return host.Switch{}, err
	}
	if !trackingOn(r.Replication) {
		return host.Switch{}, fmt.Errorf("vm %s: switch logs: %w", vmID, host.ErrTrackingOff)
	}
	if reason := resyncReason(r.Replication); reason != "" {
		return b.needResync(vmID, reason), nil
	}
	disks, err := b.trackedDisks(ctx, r)
	if err != nil {
		return host.Switch{}, err
	}
	err = b.invoke(ctx, "switch logs of vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.switchLog(ctx, vmID)
	})
	if err != nil {
		return host.Switch{}, err
	}
	pending, err := b.awaitLogs(ctx, vmID, disks)
	if errors.Is(err, errBrokenChain) {
		return b.needResync(vmID, err.Error()), nil
	}
	if err != nil {
		return host.Switch{}, err
	}
	return b.commitSwitch(vmID, pending), nil
}

// trackedDisks resolves each disk's id and log folder.
func (b *Backend) trackedDisks(ctx context.Context, r vmRecord) ([]trackedDisk, error) {
	var out []trackedDisk
	for _, d := range vhdDisks(r) {
		info, err := b.disk(ctx, d.Path)
		if err != nil {
			return nil, err
		}
		dir, stem := b.logDir(info.Base)
		out = append(out, trackedDisk{ID: info.ID, Dir: dir, Stem: stem})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("vm %s: no virtual hard disks: %w", r.ID, host.ErrUnsupported)
	}
	return out, nil
}

// awaitLogs polls the log folders until every disk has a closed log it has
// not handed out yet, a chain breaks, or SwitchTimeout passes.
func (b *Backend) awaitLogs(ctx context.Context, vmID string, disks []trackedDisk) (map[string][]logFile, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SwitchTimeout)
	defer cancel()
	pending := map[string][]logFile{}
	for {
		for _, d := range disks {
			if len(pending[d.ID]) > 0 {
				continue
			}
			logs, err := b.newLogs(ctx, d)
			if err != nil {
				return nil, err
			}
			pending[d.ID] = logs
		}
		waiting := waitingDisks(disks, pending)
		if len(waiting) == 0 {
			return pending, nil
		}
		if err := sleep(ctx, b.cfg.PollInterval); err != nil {
			return nil, fmt.Errorf("vm %s: no log switch seen for disks %s: %w: %w",
				vmID, strings.Join(waiting, ", "), host.ErrUnavailable, err)
		}
	}
}

func waitingDisks(disks []trackedDisk, pending map[string][]logFile) []string {
	var out []string
	for _, d := range disks {
		if len(pending[d.ID]) == 0 {
			out = append(out, d.ID)
		}
	}
	return out
}

// newLogs lists one disk's logs and returns those after its remembered
// tail, in chain order.
func (b *Backend) newLogs(ctx context.Context, d trackedDisk) ([]logFile, error) {
	logs, err := query(ctx, b, "list logs in "+d.Dir, func() ([]logFile, error) { return b.w.listLogs(ctx, d.Dir, d.Stem) })
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	tail := b.tails[d.ID]
	b.mu.Unlock()
	out, err := orderChain(logs, tail)
	if err != nil {
		return nil, fmt.Errorf("disk %s: %w", d.ID, err)
	}
	return out, nil
}

// commitSwitch remembers each disk's new tail and builds the result.
func (b *Backend) commitSwitch(vmID string, pending map[string][]logFile) host.Switch {
	sw := host.Switch{Logs: map[string][]string{}}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, logs := range pending {
		for _, l := range logs {
			sw.Logs[id] = append(sw.Logs[id], l.Path)
		}
		b.tails[id] = logs[len(logs)-1].ID
	}
	if reason, ok := b.resync[vmID]; ok {
		sw.ResyncNeeded, sw.Reason = true, reason
	}
	return sw
}

// needResync marks the VM and returns a switch that says so.
func (b *Backend) needResync(vmID, reason string) host.Switch {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.resync[vmID]; !ok {
		b.resync[vmID] = reason
	}
	b.log.Warn("change tracking lost writes, resync needed", "vm_id", vmID, "reason", reason)
	return host.Switch{ResyncNeeded: true, Reason: b.resync[vmID]}
}

// orderChain puts a disk's closed logs in chain order (each one's Prev is
// the one before's ID) and returns those after tail ("" means all). It
// fails with errBrokenChain when the logs do not form one chain that
// follows tail, when a log is unreadable, or when the open log does not
// follow the last closed one.
func orderChain(logs []logFile, tail string) ([]logFile, error) {
	closed, open, err := splitLogs(logs)
	if err != nil {
		return nil, err
	}
	chain, err := linkChain(closed)
	if err != nil {
		return nil, err
	}
	if len(chain) > 0 && open != nil && open.Prev != chain[len(chain)-1].ID {
		return nil, fmt.Errorf("%w: open log %s follows %q, not the last closed log %s",
			errBrokenChain, open.Path, open.Prev, chain[len(chain)-1].ID)
	}
	return afterTail(chain, tail)
}

// splitLogs separates closed logs from the (at most one) log being written.
func splitLogs(logs []logFile) (closed []logFile, open *logFile, err error) {
	var writing []logFile
	for _, l := range logs {
		switch {
		case l.Err != nil:
			return nil, nil, fmt.Errorf("%w: log %s is unreadable: %w", errBrokenChain, l.Path, l.Err)
		case l.Closed:
			closed = append(closed, l)
		default:
			writing = append(writing, l)
		}
	}
	if len(writing) > 1 {
		return nil, nil, fmt.Errorf("%w: %d logs open at once", errBrokenChain, len(writing))
	}
	if len(writing) == 1 && !writing[0].Busy {
		open = &writing[0]
	}
	return closed, open, nil
}

// linkChain orders closed logs from the one whose Prev is not among them.
func linkChain(closed []logFile) ([]logFile, error) {
	byPrev := map[string]logFile{}
	ids := map[string]bool{}
	for _, l := range closed {
		if ids[l.ID] {
			return nil, fmt.Errorf("%w: two logs with id %s", errBrokenChain, l.ID)
		}
		ids[l.ID] = true
		if other, ok := byPrev[l.Prev]; ok {
			return nil, fmt.Errorf("%w: logs %s and %s both follow %q", errBrokenChain, other.Path, l.Path, l.Prev)
		}
		byPrev[l.Prev] = l
	}
	var heads []string
	for _, l := range closed {
		if !ids[l.Prev] {
			heads = append(heads, l.Path)
		}
	}
	if len(closed) > 0 && len(heads) != 1 {
		sort.Strings(heads)
		return nil, fmt.Errorf("%w: %d chain starts (%s)", errBrokenChain, len(heads), strings.Join(heads, ", "))
	}
	chain := make([]logFile, 0, len(closed))
	for _, l := range closed {
		if !ids[l.Prev] {
			chain = append(chain, l)
		}
	}
	for len(chain) > 0 && len(chain) < len(closed) {
		next, ok := byPrev[chain[len(chain)-1].ID]
		if !ok {
			break
		}
		chain = append(chain, next)
	}
	if len(chain) != len(closed) {
		return nil, fmt.Errorf("%w: %d of %d logs reachable from the chain start", errBrokenChain, len(chain), len(closed))
	}
	return chain, nil
}

// afterTail drops the logs up to and including tail; with tail not among
// them, the first log must follow it.
func afterTail(chain []logFile, tail string) ([]logFile, error) {
	if tail == "" || len(chain) == 0 {
		return chain, nil
	}
	for i, l := range chain {
		if l.ID == tail {
			return chain[i+1:], nil
		}
	}
	if chain[0].Prev != tail {
		return nil, fmt.Errorf("%w: log %s follows %q, want the last log handed out %s",
			errBrokenChain, chain[0].Path, chain[0].Prev, tail)
	}
	return chain, nil
}
