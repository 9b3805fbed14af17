package driver

import (
	"context"
	"fmt"

	"hvmigrate/provider/internal/replication"
)

// releaseLogs asks the host to delete the logs of reported cycles. A
// failure is a warning, never a replication failure: the logs stay
// pending in the state and are asked for again with the next cycle's.
func (l *vmLoop) releaseLogs(ctx context.Context, a replication.ReleaseLogs) replication.Event {
	vmID := l.vmID
	err := l.hostCall(ctx, func(ctx context.Context) error { return l.d.deps.Host.ReleaseLogs(ctx, vmID, a.Logs) })
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("logs of reported cycles not released; trying again after the next cycle", "logs", len(a.Logs), "error", err)
			l.d.health(vmID, "warn", fmt.Sprintf("%d change tracking logs of reported cycles could not be deleted: %v", len(a.Logs), err))
		}
		return nil
	}
	l.log.Debug("logs of reported cycles released", "logs", len(a.Logs))
	return replication.LogsReleased{Logs: a.Logs}
}
