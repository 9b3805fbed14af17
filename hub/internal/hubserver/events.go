package hubserver

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
)

// EventRetention says how long the hub remembers the events hosts sent
// (the events table, which recognises a repeated event id): events older
// than MaxAge are deleted, except at least each host's KeepPerHost newest.
// Pruning runs when the hub starts and every Interval; an Interval of 0
// turns it off.
type EventRetention struct {
	KeepPerHost int      `json:"keep_per_host"`
	MaxAge      Duration `json:"max_age"`
	Interval    Duration `json:"interval"`
}

// DefaultEventRetention keeps a week, and at least 10000 events per host:
// as many as a provider's outbox holds unacknowledged, so every event a
// host can still re-send is recognised.
func DefaultEventRetention() EventRetention {
	return EventRetention{KeepPerHost: 10000, MaxAge: Duration(7 * 24 * time.Hour), Interval: Duration(time.Hour)}
}

// eventPruner deletes old events.
type eventPruner interface {
	PruneEvents(ctx context.Context, keep int, before time.Time) (int64, error)
}

// pruneEvents prunes at once and then every cfg.Interval until ctx ends.
func pruneEvents(ctx context.Context, p eventPruner, cfg EventRetention, now func() time.Time, log hclog.Logger) {
	if cfg.Interval <= 0 {
		return
	}
	t := time.NewTicker(time.Duration(cfg.Interval))
	defer t.Stop()
	for {
		n, err := p.PruneEvents(ctx, max(cfg.KeepPerHost, 0), now().Add(-time.Duration(cfg.MaxAge)))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("prune events failed; trying again at the next interval", "error", err)
		case n > 0:
			log.Info("old events pruned", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
