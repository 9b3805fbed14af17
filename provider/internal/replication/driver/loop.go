package driver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/replication"
)

// item is an event on its way into a VM's machine. Results of actions
// carry the epoch they ran in; a result from an older epoch is dropped.
type item struct {
	ev    replication.Event
	epoch uint64
	reply chan error
}

// vmLoop owns one VM's state: only its goroutine applies events.
type vmLoop struct {
	d     *Driver
	vmID  string
	log   hclog.Logger
	inbox chan item

	mu    sync.Mutex
	state replication.State

	hostMu sync.Mutex // one host call at a time

	epoch        uint64
	actx         context.Context    // the actions of the epoch run under it
	cancel       context.CancelFunc // stops them
	lastProgress time.Time
}

func (d *Driver) startLoopLocked(st replication.State) *vmLoop {
	l := &vmLoop{d: d, vmID: st.VMID, log: d.log.With("vm_id", st.VMID), inbox: make(chan item, 64), state: st, epoch: 1}
	d.vms[st.VMID] = l
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		l.run(d.ctx)
	}()
	return l
}

func (l *vmLoop) run(ctx context.Context) {
	l.actx, l.cancel = context.WithCancel(ctx)
	defer func() { l.cancel() }()
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-l.inbox:
			err := l.handle(ctx, it)
			if it.reply != nil {
				it.reply <- err
			}
		}
	}
}

// post queues an event, waiting while the inbox is full.
func (l *vmLoop) post(ctx context.Context, it item) {
	select {
	case l.inbox <- it:
	case <-ctx.Done():
	}
}

// offer queues an event unless the inbox is full (clock ticks).
func (l *vmLoop) offer(it item) {
	select {
	case l.inbox <- it:
	default:
	}
}

// submit applies a command and waits for the outcome.
func (l *vmLoop) submit(ctx, dctx context.Context, ev replication.Event) error {
	it := item{ev: ev, reply: make(chan error, 1)}
	select {
	case l.inbox <- it:
	case <-ctx.Done():
		return ctx.Err()
	case <-dctx.Done():
		return ErrNotRunning
	}
	select {
	case err := <-it.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-dctx.Done():
		return ErrNotRunning
	}
}

func (l *vmLoop) snapshot() replication.State {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state.Clone()
}

// handle applies one event: the new state is stored before any of its
// actions starts.
func (l *vmLoop) handle(ctx context.Context, it item) error {
	if it.epoch != 0 && it.epoch != l.epoch {
		l.log.Debug("dropping result of an earlier epoch", "event", it.ev.Name())
		return nil
	}
	prev := l.snapshot()
	next, acts, err := l.d.cfg.Machine.Next(prev, it.ev)
	if err != nil {
		l.logRefusal(it, err)
		return err
	}
	_, isProgress := it.ev.(replication.CopyProgress)
	if isProgress && !l.progressDue() {
		return nil
	}
	if err := l.d.deps.Store.Put(next); err != nil {
		l.log.Error("cannot store state; event dropped, resuming later", "event", it.ev.Name(), "error", err)
		l.resumeLater()
		return err
	}
	l.mu.Lock()
	l.state = next
	l.mu.Unlock()
	if next.Phase != prev.Phase {
		l.logPhase(prev, next, it.ev)
	}
	if newEpoch(prev, next) {
		l.cancel()
		l.actx, l.cancel = context.WithCancel(ctx)
		l.epoch++
	}
	l.runActions(acts)
	if isProgress || prev.Phase != next.Phase || prev.LastCycle != next.LastCycle {
		l.reportProgress(next)
	}
	return nil
}

func (l *vmLoop) logPhase(prev, next replication.State, ev replication.Event) {
	switch next.Phase {
	case replication.PhaseResyncRequired:
		l.log.Warn("resync required", "from", prev.Phase, "reason", next.ResyncReason, "generation", next.Generation)
	case replication.PhaseFailed:
		l.log.Warn("replication failed", "from", prev.Phase, "reason", next.Failure.Reason, "retry_at", next.Failure.NextRetry)
	default:
		l.log.Info("phase changed", "from", prev.Phase, "to", next.Phase, "event", ev.Name())
	}
}

func (l *vmLoop) logRefusal(it item, err error) {
	switch {
	case errors.Is(err, replication.ErrIgnored):
	case it.reply != nil:
		l.log.Info("command refused", "event", it.ev.Name(), "error", err)
	default:
		l.log.Debug("event not applied", "event", it.ev.Name(), "error", err)
	}
}

// resumeLater re-runs the stored state's pending actions after the first
// retry delay, so that a result lost to a failed store write is produced
// again (every action is idempotent).
func (l *vmLoop) resumeLater() {
	delay := l.d.cfg.Machine.RetryAfter(1)
	time.AfterFunc(delay, func() { l.offer(item{ev: replication.Resume{At: now()}}) })
}

// newEpoch reports whether the transition orphans the running actions.
func newEpoch(prev, next replication.State) bool {
	if next.Generation != prev.Generation {
		return true
	}
	return next.Phase != prev.Phase && (next.Phase == replication.PhaseFailed || next.Phase == replication.PhaseDisabling)
}

// progressDue spaces the stored copy progress.
func (l *vmLoop) progressDue() bool {
	now := time.Now()
	if now.Sub(l.lastProgress) < l.d.cfg.ProgressEvery {
		return false
	}
	l.lastProgress = now
	return true
}
