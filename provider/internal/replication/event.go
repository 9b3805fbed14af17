package replication

import "time"

// Event is something that happened to a VM: a command from the hub, the
// result of an action, or the clock.
type Event interface {
	// Name names the event in errors and logs.
	Name() string
}

// DiskSpec is a disk as the host reports it when replication is enabled.
type DiskSpec struct {
	ID            string
	Size          int64
	DataWriteGUID string
}

// Enable is the hub's command to replicate the VM. The driver runs the
// preflight checks before it sends it.
type Enable struct {
	Policy Policy
	Disks  []DiskSpec
}

// CheckpointCreated reports the checkpoint of a generation, with change
// tracking started at its instant; Frozen maps disk id to frozen file.
// Numbered says the host numbers its switches; HostSwitch is then its
// switch count at the checkpoint.
type CheckpointCreated struct {
	Generation uint64
	Frozen     map[string]string
	Numbered   bool
	HostSwitch uint64
}

// CopyProgress reports how far a disk's copy is.
type CopyProgress struct {
	Generation  uint64
	DiskID      string
	Done, Total int64
}

// CopyDone reports a disk copied into its replica base, the blob Object.
type CopyDone struct {
	Generation uint64
	DiskID     string
	Total      int64
	Object     string
}

// CheckpointDeleted reports the generation's checkpoint merged back.
type CheckpointDeleted struct{ Generation uint64 }

// BaseReported reports that the hub accepted the manifest of a copy.
type BaseReported struct{ Cycle uint64 }

// Tick is the scheduler's clock.
type Tick struct{ At time.Time }

// SwitchedDisk is one disk's share of a switch.
type SwitchedDisk struct {
	ID            string
	Logs          []string
	LogBytes      int64
	DataWriteGUID string
}

// Switched reports the VM-wide log switch of a cycle.
type Switched struct {
	Cycle        uint64
	HostSwitch   uint64
	At           time.Time
	Disks        []SwitchedDisk
	ResyncNeeded bool
	Reason       string
}

// TrackingOff reports that the host had change tracking off at a switch;
// GUIDs are the disks' DataWriteGuids now.
type TrackingOff struct {
	Cycle uint64
	GUIDs map[string]string
}

// UploadedDisk is one disk's delta object.
type UploadedDisk struct {
	ID     string
	Object string
	Bytes  int64
}

// Uploaded reports a cycle's delta objects committed to storage.
type Uploaded struct {
	Cycle uint64
	Disks []UploadedDisk
}

// SourceLost reports that the agent found a source disk or log missing,
// corrupt, unclosed or chained wrongly: only a resync recovers.
type SourceLost struct{ Reason string }

// CycleReported reports that the hub accepted a cycle's manifest.
type CycleReported struct {
	Cycle uint64
	At    time.Time
}

// ActionFailed reports an action that failed and may be retried.
type ActionFailed struct {
	Action string
	Err    string
	At     time.Time
}

// Resume continues from the stored state: at start-up, and when a failed
// VM's retry is due (At at or after Failure.NextRetry).
type Resume struct{ At time.Time }

// Disable is the hub's command to stop replicating the VM.
type Disable struct{}

// Disabled reports the host cleaned up after Disable.
type Disabled struct{}

// Resync is the hub's command to resynchronise the VM.
type Resync struct{ Reason string }

// Pause stops scheduling cycles; Unpause starts again.
type Pause struct{}

// Unpause resumes scheduling cycles.
type Unpause struct{}

// Migrate is the hub's command to cut over; Shutdown asks for the guest
// to be shut down before the final cycle (otherwise the operator has
// stopped it, and the final cycle waits for nothing).
type Migrate struct{ Shutdown bool }

// ShutDown reports the guest off (or not shut down, by policy) for the
// final cycle.
type ShutDown struct{}

// TestMigrate is the hub's notice of a test migration; replication goes on.
type TestMigrate struct{}

// Name implementations.
func (Enable) Name() string            { return "enable" }
func (CheckpointCreated) Name() string { return "checkpoint_created" }
func (CopyProgress) Name() string      { return "copy_progress" }
func (CopyDone) Name() string          { return "copy_done" }
func (CheckpointDeleted) Name() string { return "checkpoint_deleted" }
func (BaseReported) Name() string      { return "base_reported" }
func (Tick) Name() string              { return "tick" }
func (Switched) Name() string          { return "switched" }
func (TrackingOff) Name() string       { return "tracking_off" }
func (Uploaded) Name() string          { return "uploaded" }
func (SourceLost) Name() string        { return "source_lost" }
func (CycleReported) Name() string     { return "cycle_reported" }
func (ActionFailed) Name() string      { return "action_failed" }
func (Resume) Name() string            { return "resume" }
func (Disable) Name() string           { return "disable" }
func (Disabled) Name() string          { return "disabled" }
func (Resync) Name() string            { return "resync" }
func (Pause) Name() string             { return "pause" }
func (Unpause) Name() string           { return "unpause" }
func (Migrate) Name() string           { return "migrate" }
func (ShutDown) Name() string          { return "shut_down" }
func (TestMigrate) Name() string       { return "test_migrate" }
