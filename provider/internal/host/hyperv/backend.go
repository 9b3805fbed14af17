package hyperv

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/host"
)

// Backend is the Hyper-V host backend: host.Backend over WMI. Its logic is
// platform-neutral; the WMI calls it makes go through a wmiHost, which only
// Windows builds implement for real (see New).
type Backend struct {
	w   wmiHost
	cfg Config
	log hclog.Logger

	mu sync.Mutex
	// tails maps disk id to the UniqueId of the last log handed out, so
	// the next switch can check that its first log follows it.
	tails map[string]string
	// resync maps VM id to why the backend lost track of its writes; it is
	// cleared by AcknowledgeResync.
	resync map[string]string
}

// newBackend builds a Backend over any wmiHost.
func newBackend(w wmiHost, cfg Config, logger hclog.Logger) (*Backend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Backend{
		w:      w,
		cfg:    cfg,
		log:    logger.Named("hyperv"),
		tails:  map[string]string{},
		resync: map[string]string{},
	}, nil
}

// Inventory lists the VMs of the host. A VM whose disks cannot be described
// is logged and left out rather than failing the whole list.
func (b *Backend) Inventory(ctx context.Context) ([]host.VM, error) {
	recs, err := query(ctx, b, "list vms", func() ([]vmRecord, error) { return b.w.queryVMs(ctx) })
	if err != nil {
		return nil, err
	}
	vms := make([]host.VM, 0, len(recs))
	for _, r := range recs {
		vm, err := b.describe(ctx, r)
		if err != nil {
			b.log.Warn("vm left out of inventory", "vm_id", r.ID, "vm_name", r.Name, "error", err)
			continue
		}
		vms = append(vms, vm)
	}
	return vms, nil
}

// VM returns one VM.
func (b *Backend) VM(ctx context.Context, vmID string) (host.VM, error) {
	r, err := b.record(ctx, vmID)
	if err != nil {
		return host.VM{}, err
	}
	return b.describe(ctx, r)
}

// record reads one VM's raw record.
func (b *Backend) record(ctx context.Context, vmID string) (vmRecord, error) {
	return query(ctx, b, "vm "+vmID, func() (vmRecord, error) { return b.w.queryVM(ctx, vmID) })
}

// describe maps a raw record to host.VM, reading each disk's settings.
func (b *Backend) describe(ctx context.Context, r vmRecord) (host.VM, error) {
	vm := host.VM{
		ID:             r.ID,
		Name:           r.Name,
		Generation:     generation(r.SubType),
		CPUs:           r.CPUs,
		MemoryBytes:    r.MemoryMB << 20,
		NICs:           nics(r.NICs),
		Power:          power(r.EnabledState),
		HasCheckpoints: len(b.foreignSnapshots(r)) > 0,
		Tracking:       trackingOn(r.Replication),
	}
	for _, d := range vhdDisks(r) {
		disk, err := b.disk(ctx, d.Path)
		if err != nil {
			return host.VM{}, fmt.Errorf("vm %s: %w", r.ID, err)
		}
		vm.Disks = append(vm.Disks, disk.Disk)
	}
	return vm, nil
}

// vhdDisks returns the virtual hard disks of a VM (not DVD images).
func vhdDisks(r vmRecord) []diskRecord {
	var out []diskRecord
	for _, d := range r.Disks {
		if d.SubType == subTypeVHD {
			out = append(out, d)
		}
	}
	return out
}

// unsupportedDisks names the disks the backend cannot replicate:
// pass-through and other non-file disks, shared VHD Sets.
func unsupportedDisks(r vmRecord) []string {
	var out []string
	for _, d := range r.Disks {
		if d.SubType != subTypeVHD && d.SubType != subTypeISO {
			out = append(out, fmt.Sprintf("%s (%s)", d.Path, d.SubType))
		}
	}
	return out
}

// Close releases the host connection, if the wmiHost holds one.
func (b *Backend) Close() error {
	if c, ok := b.w.(interface{ close() error }); ok {
		return c.close()
	}
	return nil
}
