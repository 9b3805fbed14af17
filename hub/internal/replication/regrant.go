package replication

import (
	"context"

	"hvmigrate/hub/internal/state"
)

// HostConnected issues the grants of the host's active VMs again each
// time the host's stream is established. A provider keeps the grants it
// was pushed in memory only, so a restarted provider gets them back here.
func (s *Service) HostConnected(ctx context.Context, hostID string) {
	if err := s.regrant(ctx, hostID); err != nil && ctx.Err() == nil {
		s.log.Warn("grants not re-sent to a connected host; the next renewal sends them", "host_id", hostID, "error", err)
	}
}

func (s *Service) regrant(ctx context.Context, hostID string) error {
	all, err := s.store.Replications(ctx)
	if err != nil {
		return err
	}
	for _, r := range all {
		active := r.State == state.ReplInitialCopy || r.State == state.ReplReplicating || r.State == state.ReplMigrating
		if r.HostID != hostID || !active || r.GrantsExpireAt.IsZero() {
			continue
		}
		if err := s.refreshGrants(ctx, r); err != nil {
			return err
		}
	}
	return nil
}
