// Package simhost is the host backend over hvm-simhost, the Hyper-V
// stand-in for Linux and tests: it calls the daemon through its typed
// client and maps its error classes to the host package's.
package simhost

import (
	"context"
	"errors"
	"fmt"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/provider/internal/host"
)

// CheckpointName names the checkpoints the provider makes, so that any
// other checkpoint is reported as HasCheckpoints.
const CheckpointName = "hvmigrate replication"

// Backend drives one simhost daemon.
type Backend struct {
	c *client.Client
}

var _ host.Backend = (*Backend)(nil)

// New returns a backend over a connected client; the caller closes it.
func New(c *client.Client) *Backend { return &Backend{c: c} }

// Dial connects to the daemon's socket.
func Dial(endpoint string) (*Backend, error) {
	c, err := client.Dial(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", host.ErrUnavailable, err)
	}
	return New(c), nil
}

// Close closes the connection.
func (b *Backend) Close() error { return b.c.Close() }

// Inventory lists the VMs of the host.
func (b *Backend) Inventory(ctx context.Context) ([]host.VM, error) {
	vms, err := b.c.ListVMs(ctx)
	if err != nil {
		return nil, mapErr("list vms", err)
	}
	out := make([]host.VM, 0, len(vms))
	for _, v := range vms {
		out = append(out, toVM(v))
	}
	return out, nil
}

// VM returns one VM.
func (b *Backend) VM(ctx context.Context, vmID string) (host.VM, error) {
	v, err := b.c.GetVM(ctx, vmID)
	if err != nil {
		return host.VM{}, mapErr("get vm "+vmID, err)
	}
	return toVM(v), nil
}

// CreateCheckpoint freezes the disks and, with tracking, starts change
// tracking at the same instant.
func (b *Backend) CreateCheckpoint(ctx context.Context, vmID string, tracking bool) (host.Checkpoint, error) {
	_, err := b.c.CreateCheckpoint(ctx, vmID, simhost.CheckpointSpec{Name: CheckpointName, StartTracking: tracking})
	if err != nil {
		return host.Checkpoint{}, mapErr("checkpoint vm "+vmID, err)
	}
	frozen, err := b.c.GetFrozenDisks(ctx, vmID)
	if err != nil {
		return host.Checkpoint{}, mapErr("frozen disks of vm "+vmID, err)
	}
	vm, err := b.c.GetVM(ctx, vmID)
	if err != nil {
		return host.Checkpoint{}, mapErr("get vm "+vmID, err)
	}
	cp := host.Checkpoint{Frozen: map[string]string{}, Numbered: true, LastSwitch: vm.Tracking.LastSwitch}
	for _, f := range frozen {
		cp.Frozen[f.DiskID] = f.Path
	}
	return cp, nil
}

// DeleteCheckpoint merges the checkpoint back.
func (b *Backend) DeleteCheckpoint(ctx context.Context, vmID string) error {
	return mapErr("delete checkpoint of vm "+vmID, b.c.DeleteCheckpoint(ctx, vmID))
}

// StartTracking turns change tracking on.
func (b *Backend) StartTracking(ctx context.Context, vmID string) error {
	_, err := b.c.StartTracking(ctx, vmID)
	return mapErr("start tracking on vm "+vmID, err)
}

// StopTracking turns change tracking off.
func (b *Backend) StopTracking(ctx context.Context, vmID string, removeLogs bool) error {
	return mapErr("stop tracking on vm "+vmID, b.c.StopTracking(ctx, vmID, removeLogs))
}

// SwitchLogs switches every disk's log at one instant.
func (b *Backend) SwitchLogs(ctx context.Context, vmID string) (host.Switch, error) {
	r, err := b.c.SwitchLogs(ctx, vmID)
	if err != nil {
		return host.Switch{}, mapErr("switch logs of vm "+vmID, err)
	}
	return toSwitch(r), nil
}

// GetSwitch returns what switch number handed out, from the daemon's
// record of it.
func (b *Backend) GetSwitch(ctx context.Context, vmID string, number uint64) (host.Switch, error) {
	r, err := b.c.GetSwitch(ctx, vmID, number)
	if err != nil {
		return host.Switch{}, mapErr(fmt.Sprintf("switch %d of vm %s", number, vmID), err)
	}
	return toSwitch(r), nil
}

func toSwitch(r simhost.SwitchResult) host.Switch {
	sw := host.Switch{Number: r.Number, Logs: map[string][]string{}, ResyncNeeded: r.NeedsResync, Reason: r.ResyncReason}
	for _, d := range r.Disks {
		sw.Logs[d.DiskID] = append([]string(nil), d.ClosedLogs...)
	}
	return sw
}

// Shutdown shuts the guest down (or turns it off with force); a VM that
// is already off is not an error.
func (b *Backend) Shutdown(ctx context.Context, vmID string, force bool) error {
	mode := simhost.StopShutdown
	if force {
		mode = simhost.StopTurnOff
	}
	err := b.c.StopVM(ctx, vmID, mode)
	if errors.Is(err, simhost.ErrNotRunning) {
		return nil
	}
	return mapErr("shut down vm "+vmID, err)
}

// AcknowledgeResync lowers the VM's needs-resync flag.
func (b *Backend) AcknowledgeResync(ctx context.Context, vmID string) error {
	return mapErr("acknowledge resync of vm "+vmID, b.c.ClearResync(ctx, vmID))
}

func toVM(v simhost.VM) host.VM {
	out := host.VM{ID: v.ID, Name: v.Name, Generation: v.Generation, CPUs: v.CPUs, MemoryBytes: v.MemoryBytes,
		Power: toPower(v.Power), Tracking: v.Tracking.Enabled,
		HasCheckpoints: v.Checkpoint != nil && v.Checkpoint.Name != CheckpointName}
	for _, n := range v.NICs {
		out.NICs = append(out.NICs, host.NIC{Name: n.Name, MACAddress: n.MACAddress, SwitchName: n.SwitchName})
	}
	for _, d := range v.Disks {
		out.Disks = append(out.Disks, toDisk(d))
	}
	return out
}

func toDisk(d simhost.Disk) host.Disk {
	out := host.Disk{ID: d.ID, Path: d.Path, Format: "vhd", VirtualSize: d.Size, LogicalSectorSize: d.LogicalSectorSize}
	if d.Format.IsVHDX() {
		out.Format, out.DataWriteGUID = "vhdx", d.Identity.DataWriteGUID.String()
	}
	return out
}

func toPower(p simhost.PowerState) host.PowerState {
	switch p {
	case simhost.PowerRunning:
		return host.PowerRunning
	case simhost.PowerOff:
		return host.PowerOff
	}
	return host.PowerOther
}

// mapErr wraps err in the host error class of its simhost class, keeping
// the daemon's message.
func mapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	classes := []struct{ from, to error }{
		{simhost.ErrNotFound, host.ErrNotFound},
		{simhost.ErrCheckpointExists, host.ErrCheckpointExists},
		{simhost.ErrNoCheckpoint, host.ErrNoCheckpoint},
		{simhost.ErrTrackingOff, host.ErrTrackingOff},
		{simhost.ErrUnsupported, host.ErrUnsupported},
		{client.ErrUnavailable, host.ErrUnavailable},
		{simhost.ErrClosed, host.ErrUnavailable},
		{context.DeadlineExceeded, host.ErrUnavailable},
	}
	for _, c := range classes {
		if errors.Is(err, c.from) {
			return fmt.Errorf("%s: %w: %w", what, c.to, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// ReleaseLogs asks the daemon to delete closed logs it handed out.
func (b *Backend) ReleaseLogs(ctx context.Context, vmID string, logs []string) error {
	_, err := b.c.ReleaseLogs(ctx, vmID, logs)
	if errors.Is(err, simhost.ErrInvalid) {
		return fmt.Errorf("release logs of vm %s: %w: %w", vmID, host.ErrUnsupported, err)
	}
	return mapErr("release logs of vm "+vmID, err)
}
