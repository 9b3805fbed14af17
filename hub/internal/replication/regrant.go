package replication

import (
	"context"

	"hvmigrate/hub/internal/state"
)

// onInventory issues the grants of the host's active VMs again. A provider
// keeps the grants it was pushed in memory only and reports its inventory
// first thing after it starts, so a restarted provider gets them back
// here; the periodic inventory refreshes them as a side effect.
func (s *Service) onInventory(ctx context.Context, hostID string) error {
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
