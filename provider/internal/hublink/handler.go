package hublink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/preflight"
	"hvmigrate/shared/units"
)

// Driver is what the handler needs of the replication driver.
type Driver interface {
	Enable(ctx context.Context, vmID string, policy replication.Policy) (preflight.Report, error)
	Submit(ctx context.Context, vmID string, ev replication.Event) error
	SetThrottle(ctx context.Context, t agentclient.Throttle) error
	State(vmID string) (replication.State, bool)
}

var _ Driver = (*driver.Driver)(nil)

// Handler turns the hub's commands into driver calls. A command the
// driver refuses for good (preflight, a transition the VM's state does
// not allow) is acknowledged and reported to the hub as an error, since
// offering it again cannot change the answer; any other failure leaves
// it unacknowledged for the link to offer again.
type Handler struct {
	hub *Hub
	drv Driver
	log hclog.Logger
	// startWait bounds the wait for a driver that is still starting.
	startWait time.Duration
}

var _ hubclient.Handler = (*Handler)(nil)

// NewHandler returns a handler that feeds grants to hub and commands to
// drv.
func NewHandler(hub *Hub, drv Driver, log hclog.Logger) *Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Handler{hub: hub, drv: drv, log: log.Named("commands"), startWait: 10 * time.Second}
}

// HandleCommand implements hubclient.Handler.
func (h *Handler) HandleCommand(ctx context.Context, c hubclient.Command) error {
	h.log.Debug("command", "command_id", c.ID)
	switch {
	case c.EnableReplication != nil:
		return h.enable(ctx, c.EnableReplication)
	case c.RefreshSAS != nil:
		h.hub.SetGrants(c.RefreshSAS.VMID, c.RefreshSAS.Grants)
		return nil
	case c.ResyncRanges != nil:
		h.hub.takeResyncRanges(c.ResyncRanges)
		return nil
	case c.SetThrottle != nil:
		return h.whenRunning(ctx, func() error { return h.drv.SetThrottle(ctx, throttleOf(c.SetThrottle)) })
	case c.DisableReplication != nil:
		return h.disable(ctx, c.DisableReplication.VMID)
	case c.Resync != nil:
		return h.submit(ctx, c.Resync.VMID, replication.Resync{})
	case c.TestMigrate != nil:
		return h.submit(ctx, c.TestMigrate.VMID, replication.TestMigrate{})
	case c.Migrate != nil:
		return h.submit(ctx, c.Migrate.VMID, replication.Migrate{Shutdown: c.Migrate.ShutdownSource})
	}
	h.log.Warn("command of an unknown kind ignored", "command_id", c.ID)
	return nil
}

// enable stores the grants, then enables the VM.
func (h *Handler) enable(ctx context.Context, e *hubclient.EnableReplication) error {
	h.hub.SetGrants(e.VMID, e.SAS)
	if st, ok := h.drv.State(e.VMID); ok && st.Phase != "" && st.Phase != replication.PhaseDisabled {
		h.log.Debug("vm already replicated; grants renewed", "vm_id", e.VMID, "phase", st.Phase)
		return nil
	}
	policy := replication.Policy{Interval: e.Interval, Threads: int(e.Threads)}
	if c := h.hub.cfg.IntervalCap; c > 0 && policy.Interval > c {
		policy.Interval = c
	}
	var rep preflight.Report
	err := h.whenRunning(ctx, func() (err error) {
		rep, err = h.drv.Enable(ctx, e.VMID, policy)
		return err
	})
	switch {
	case err == nil || errors.Is(err, replication.ErrIgnored):
		return nil
	case rep.Err() != nil:
		return h.refused(e.VMID, "preflight", err)
	case errors.Is(err, replication.ErrInvalidTransition):
		return h.refused(e.VMID, "enable", err)
	}
	return fmt.Errorf("enable vm %s: %w", e.VMID, err)
}

// disable stops the VM and forgets its grants; a VM this host does not
// replicate is already disabled.
func (h *Handler) disable(ctx context.Context, vmID string) error {
	err := h.whenRunning(ctx, func() error { return h.drv.Submit(ctx, vmID, replication.Disable{}) })
	if err != nil && !errors.Is(err, replication.ErrInvalidTransition) {
		return fmt.Errorf("disable vm %s: %w", vmID, err)
	}
	h.hub.ForgetGrants(vmID)
	return nil
}

// submit hands a command to the VM's machine.
func (h *Handler) submit(ctx context.Context, vmID string, ev replication.Event) error {
	err := h.whenRunning(ctx, func() error { return h.drv.Submit(ctx, vmID, ev) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, replication.ErrInvalidTransition):
		return h.refused(vmID, fmt.Sprintf("%T", ev), err)
	}
	return fmt.Errorf("vm %s: %w", vmID, err)
}

// refused reports a command refused for good and acknowledges it.
func (h *Handler) refused(vmID, what string, cause error) error {
	h.log.Warn("command refused", "vm_id", vmID, "command", what, "error", cause)
	return h.hub.queue(hubclient.Event{ErrorReport: &hubclient.ErrorReport{VMID: vmID, Reason: "refused", Message: cause.Error()}})
}

// whenRunning calls fn, calling it again while the driver is still
// starting, for up to startWait.
func (h *Handler) whenRunning(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(h.startWait)
	for {
		err := fn()
		if !errors.Is(err, driver.ErrNotRunning) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// throttleOf maps the hub's limits (bits per second, 0 unlimited) to the
// agent's.
func throttleOf(t *hubclient.Throttle) agentclient.Throttle {
	return agentclient.Throttle{WorkHours: units.Bandwidth(t.WorkHoursBps), NonWorkHours: units.Bandwidth(t.OffHoursBps),
		WorkStart: t.WorkStart, WorkEnd: t.WorkEnd}
}
