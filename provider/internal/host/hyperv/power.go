package hyperv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hvmigrate/provider/internal/host"
)

// Shutdown asks the guest to shut down through its shutdown integration
// service and waits until the VM is off. Without force, a guest that is
// not off after ShutdownTimeout yields ErrShutdownTimeout and is left
// running. With force, the graceful attempt gets ForceGrace, then the VM
// is turned off (as it is at once when it has no shutdown service).
func (b *Backend) Shutdown(ctx context.Context, vmID string, force bool) error {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return err
	}
	if power(r.EnabledState) == host.PowerOff {
		return nil
	}
	grace := b.cfg.ShutdownTimeout
	if force {
		grace = b.cfg.ForceGrace
	}
	err = b.gracefulShutdown(ctx, vmID, grace)
	switch {
	case err == nil:
		return nil
	case !force:
		return err
	case !errors.Is(err, ErrShutdownTimeout) && !errors.Is(err, errNoShutdownComponent):
		return err
	}
	b.log.Info("turning vm off", "vm_id", vmID, "reason", err)
	return b.turnOff(ctx, vmID)
}

// gracefulShutdown asks the guest to shut down and waits up to grace.
func (b *Backend) gracefulShutdown(ctx context.Context, vmID string, grace time.Duration) error {
	if grace <= 0 {
		return fmt.Errorf("vm %s: no time for a graceful shutdown: %w", vmID, ErrShutdownTimeout)
	}
	err := b.invoke(ctx, "shut down vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.initiateShutdown(ctx, vmID, false, b.cfg.ShutdownReason)
	})
	if errors.Is(err, errNoShutdownComponent) {
		return fmt.Errorf("vm %s: graceful shutdown: %w: %w", vmID, host.ErrUnsupported, err)
	}
	if err != nil {
		return err
	}
	return b.waitOff(ctx, vmID, grace, ErrShutdownTimeout)
}

// turnOff turns the VM off (RequestStateChange to Disabled) and waits.
func (b *Backend) turnOff(ctx context.Context, vmID string) error {
	err := b.invoke(ctx, "turn off vm "+vmID, b.cfg.JobTimeout, func() (callResult, error) {
		return b.w.requestStateChange(ctx, vmID, stateDisabled)
	})
	if err != nil {
		return err
	}
	return b.waitOff(ctx, vmID, b.cfg.TurnOffTimeout, host.ErrUnavailable)
}

// waitOff polls the VM's power state until it is off, or fails with
// timeoutErr once d passes.
func (b *Backend) waitOff(ctx context.Context, vmID string, d time.Duration, timeoutErr error) error {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		r, err := b.record(wctx, vmID)
		if err != nil && ctx.Err() == nil && wctx.Err() != nil {
			return fmt.Errorf("vm %s: not off after %s: %w", vmID, d, timeoutErr)
		}
		if err != nil {
			return err
		}
		if power(r.EnabledState) == host.PowerOff {
			return nil
		}
		if err := sleep(wctx, b.cfg.PollInterval); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("vm %s: wait for power off: %w", vmID, ctx.Err())
			}
			return fmt.Errorf("vm %s: still in state %d after %s: %w", vmID, r.EnabledState, d, timeoutErr)
		}
	}
}
