package hublink

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/hubclient"
)

// Lister lists the host's VMs; host.Backend is one.
type Lister interface {
	Inventory(ctx context.Context) ([]host.VM, error)
}

// ReportInventory sends the host's VMs to the hub now and then every
// period until ctx ends. A failed listing is logged and tried again at
// the next period.
func ReportInventory(ctx context.Context, l Lister, hub *Hub, every time.Duration, log hclog.Logger) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := sendInventory(ctx, l, hub); err != nil && ctx.Err() == nil {
			log.Warn("inventory not reported", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sendInventory lists the VMs and queues one inventory event.
func sendInventory(ctx context.Context, l Lister, hub *Hub) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	vms, err := l.Inventory(cctx)
	if err != nil {
		return err
	}
	return hub.queue(hubclient.Event{Inventory: inventoryOf(vms)})
}
