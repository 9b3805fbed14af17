package hyperv

import (
	"context"
	"fmt"

	"hvmigrate/provider/internal/host"
)

// GetSwitch always reports host.ErrNotFound: Hyper-V does not number its
// log switches, so a switch whose answer was lost cannot be looked up (the
// replication state machine resyncs instead).
func (b *Backend) GetSwitch(_ context.Context, vmID string, number uint64) (host.Switch, error) {
	return host.Switch{}, fmt.Errorf("vm %s: switch %d: %w: Hyper-V does not number log switches", vmID, number, host.ErrNotFound)
}
