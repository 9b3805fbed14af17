// Package host is what the replication provider needs of a hypervisor: VM
// inventory, the replication checkpoint, change tracking with VM-wide log
// switches, and shutdown. The replication state machine is its consumer and
// knows nothing else of the host; implementations live in subpackages:
// simhost (a client of hvm-simhost, for Linux and tests) and hyperv (WMI,
// Windows only).
package host

import (
	"context"
	"errors"
)

// Error classes every backend maps its failures to.
var (
	// ErrNotFound: no VM (or disk) has the id.
	ErrNotFound = errors.New("not found on host")
	// ErrCheckpointExists: the VM already has a checkpoint.
	ErrCheckpointExists = errors.New("checkpoint already exists")
	// ErrNoCheckpoint: the VM has no replication checkpoint.
	ErrNoCheckpoint = errors.New("no replication checkpoint")
	// ErrTrackingOff: change tracking is not running for the VM.
	ErrTrackingOff = errors.New("change tracking is off")
	// ErrUnsupported: the VM or disk cannot be replicated as it is.
	ErrUnsupported = errors.New("unsupported by the host")
	// ErrUnavailable: the host (hypervisor service, simhost daemon) did
	// not answer; try again.
	ErrUnavailable = errors.New("host unavailable")
)

// PowerState is a VM's power state as the provider needs it.
type PowerState string

// Power states.
const (
	PowerRunning PowerState = "running"
	PowerOff     PowerState = "off"
	PowerOther   PowerState = "other" // saved, paused, starting, stopping
)

// NIC is a network adapter, for the VM definition at migration.
type NIC struct {
	Name       string
	MACAddress string
	SwitchName string
}

// Disk is one virtual disk of a VM.
type Disk struct {
	// ID is stable across checkpoints and restarts: the VHDX VirtualDiskId
	// or VHD UniqueId in canonical text form.
	ID string
	// Path is the file the VM writes now (an AVHDX while a checkpoint
	// exists).
	Path string
	// Format is "vhdx" or "vhd".
	Format            string
	VirtualSize       int64
	LogicalSectorSize int
	// DataWriteGUID is the VHDX DataWriteGuid of Path (empty for VHD): it
	// changes whenever the disk may have been written outside tracking.
	DataWriteGUID string
}

// VM is one virtual machine and its disks.
type VM struct {
	ID          string
	Name        string
	Generation  int
	CPUs        int
	MemoryBytes int64
	NICs        []NIC
	Power       PowerState
	Disks       []Disk
	// HasCheckpoints reports checkpoints the provider did not make (they
	// block enabling replication).
	HasCheckpoints bool
	// Tracking reports whether change tracking is on.
	Tracking bool
}

// Checkpoint is the replication checkpoint of a VM: for each disk, the
// read-only file that holds the disk as of the checkpoint.
type Checkpoint struct {
	// Frozen maps disk id to the frozen file to copy.
	Frozen map[string]string
	// Numbered says the host numbers its switches (Switch.Number) and can
	// look one up (GetSwitch); LastSwitch is then the number of its last
	// switch at the checkpoint (0: none yet).
	Numbered   bool
	LastSwitch uint64
}

// Switch is the result of one VM-wide log switch: for each disk, the logs
// closed by it (oldest first). No guest write falls between the disks'
// switch points.
type Switch struct {
	// Number counts switches since tracking started (1, 2, ...), if the
	// host numbers them; 0 if not.
	Number uint64
	// Logs maps disk id to the closed log files, in chain order.
	Logs map[string][]string
	// ResyncNeeded is set when the host lost track of writes (a crash of
	// the tracker, a log it could not close); Reason says why.
	ResyncNeeded bool
	Reason       string
}

// Backend is a hypervisor as the replication provider drives it.
type Backend interface {
	// Inventory lists the VMs of the host.
	Inventory(ctx context.Context) ([]VM, error)
	// VM returns one VM.
	VM(ctx context.Context, vmID string) (VM, error)
	// CreateCheckpoint freezes every disk of the VM at one instant and, if
	// tracking is true, starts change tracking at that same instant.
	CreateCheckpoint(ctx context.Context, vmID string, tracking bool) (Checkpoint, error)
	// DeleteCheckpoint merges the replication checkpoint back.
	DeleteCheckpoint(ctx context.Context, vmID string) error
	// StartTracking and StopTracking turn change tracking on and off;
	// StopTracking can remove the logs.
	StartTracking(ctx context.Context, vmID string) error
	StopTracking(ctx context.Context, vmID string, removeLogs bool) error
	// SwitchLogs closes the current logs of every disk of the VM at one
	// instant and opens new ones.
	SwitchLogs(ctx context.Context, vmID string) (Switch, error)
	// GetSwitch returns what switch number handed out, for a provider
	// that lost the answer of SwitchLogs. ErrNotFound means the host never
	// made that switch, or does not number its switches.
	GetSwitch(ctx context.Context, vmID string, number uint64) (Switch, error)
	// Shutdown shuts the guest down gracefully (or turns it off when
	// force is set) and returns once it is off.
	Shutdown(ctx context.Context, vmID string, force bool) error
	// AcknowledgeResync tells the host that a resync covered the writes it
	// lost track of.
	AcknowledgeResync(ctx context.Context, vmID string) error
	// ReleaseLogs deletes closed logs of the VM that a switch handed out
	// and that are no longer needed. It deletes nothing but closed logs of
	// the VM's own disks (an open one is refused with ErrUnsupported) and
	// treats a log already gone as released, so a repeat is harmless.
	ReleaseLogs(ctx context.Context, vmID string, logs []string) error
}
