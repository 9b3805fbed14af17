package driver

import (
	"context"
	"errors"

	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/replication"
)

// switchOnce returns the host's switch a.Expect if the host made it
// already (the provider stopped before it heard the answer), and switches
// otherwise, so that a switch repeated after a crash loses no logs.
// Callers hold the host call lock.
func (l *vmLoop) switchOnce(ctx context.Context, a replication.SwitchLogs) (host.Switch, error) {
	h := l.d.deps.Host
	if a.Expect != 0 {
		sw, err := h.GetSwitch(ctx, l.vmID, a.Expect)
		if err == nil {
			l.log.Info("switch made before the provider stopped; taking its logs", "cycle", a.Cycle, "host_switch", sw.Number)
			return sw, nil
		}
		if !errors.Is(err, host.ErrNotFound) {
			return host.Switch{}, err
		}
	}
	return h.SwitchLogs(ctx, l.vmID)
}
