package replication

import (
	"fmt"
	"time"
)

// Action is work the driver does after the new state is durable. Each
// action either yields one event back into the machine or none.
type Action interface {
	// Name names the action in errors and logs.
	Name() string
}

// PrepareCheckpoint stops any earlier tracking (removing its logs),
// removes a stale checkpoint of the provider's own, and creates the
// generation's checkpoint with tracking started at its instant. Yields
// CheckpointCreated.
type PrepareCheckpoint struct{ Generation uint64 }

// CopyDisk copies one frozen disk into the generation's replica base.
// Yields CopyProgress events, then CopyDone (or SourceLost).
type CopyDisk struct {
	Generation uint64
	DiskID     string
	Frozen     string
	JobID      string
	Threads    int
}

// DeleteCheckpoint merges the generation's checkpoint back. Yields
// CheckpointDeleted. (A host's lost-track flag is acknowledged when the
// checkpoint is made, see PrepareCheckpoint.)
type DeleteCheckpoint struct {
	Generation uint64
}

// StartTracking turns change tracking back on. Yields nothing.
type StartTracking struct{}

// SwitchLogs switches the logs of every disk for a cycle. Expect is the
// number the host gives this switch (0: the host does not number them);
// when the host already made it (the provider stopped before it heard
// the answer), that switch is looked up rather than made again. Yields
// Switched or TrackingOff.
type SwitchLogs struct{ Cycle, Expect uint64 }

// UploadCycle uploads one delta object per disk. Yields Uploaded or
// SourceLost.
type UploadCycle struct {
	JobID   string
	Cycle   Cycle
	Sizes   map[string]int64
	Threads int
}

// Report sends a manifest to the hub. Yields BaseReported for a base,
// CycleReported otherwise.
type Report struct{ Manifest Manifest }

// Health is a warning or notice for the hub. Yields nothing.
type Health struct {
	Level   string // "info", "warn" or "error"
	Message string
}

// ShutdownGuest shuts the guest down before the final cycle when the
// policy says so (Shutdown), and yields ShutDown either way.
type ShutdownGuest struct{ Shutdown bool }

// Cleanup cancels the VM's jobs, removes the provider's checkpoint and
// stops tracking, removing the logs. Yields Disabled.
type Cleanup struct{}

// StopTracking stops tracking after migration. Yields nothing.
type StopTracking struct{ RemoveLogs bool }

// Name implementations.
func (PrepareCheckpoint) Name() string { return "prepare_checkpoint" }
func (CopyDisk) Name() string          { return "copy_disk" }
func (DeleteCheckpoint) Name() string  { return "delete_checkpoint" }
func (StartTracking) Name() string     { return "start_tracking" }
func (SwitchLogs) Name() string        { return "switch_logs" }
func (UploadCycle) Name() string       { return "upload_cycle" }
func (Report) Name() string            { return "report" }
func (Health) Name() string            { return "health" }
func (ShutdownGuest) Name() string     { return "shutdown_guest" }
func (Cleanup) Name() string           { return "cleanup" }
func (StopTracking) Name() string      { return "stop_tracking" }

// ManifestKind says what a manifest describes.
type ManifestKind string

// Manifest kinds. A base replaces the replica with a full copy (initial
// replication or resync); a delta and the final cycle apply on top.
const (
	ManifestBase  ManifestKind = "base"
	ManifestDelta ManifestKind = "delta"
	ManifestFinal ManifestKind = "final"
)

// ManifestDisk is one disk's share of a manifest: the blob (delta object,
// or replica base for a base), the bytes sent, and the logs it came from.
type ManifestDisk struct {
	DiskID string
	Object string
	Bytes  int64
	LogIDs []string
}

// Manifest is what the hub learns of a finished cycle or copy. Cycle
// numbers are contiguous per VM: every manifest's Previous is the Cycle of
// the one before.
type Manifest struct {
	VMID       string
	Kind       ManifestKind
	Cycle      uint64
	Previous   uint64
	Generation uint64
	HostSwitch uint64
	SwitchedAt time.Time
	Disks      []ManifestDisk
	// RPO is how far behind the source the replica was just before this
	// cycle arrived.
	RPO time.Duration
}

// CopyJobID is the agent job id of a disk's copy in a generation: the
// same after a provider restart, so the provider re-attaches to it.
func CopyJobID(vmID, diskID string, generation uint64) string {
	return fmt.Sprintf("copy-%s-%s-g%d", vmID, diskID, generation)
}

// CycleJobID is the agent job id of a cycle's upload.
func CycleJobID(vmID string, cycle uint64) string {
	return fmt.Sprintf("cycle-%s-c%d", vmID, cycle)
}
