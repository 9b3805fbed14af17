// Package replication is the per-VM replication state machine of the
// provider, as a pure function: Config.Next takes a VM's State and an Event
// (a command from the hub, a result of an earlier action, a clock tick) and
// returns the new State and the Actions to run. It does no I/O; a driver
// persists the new state before it runs the actions, so a restarted
// provider resumes from the last durable step.
package replication

import (
	"fmt"
	"slices"
	"time"
)

// Phase is where a VM stands in replication.
type Phase string

// Phases. Enabling and ResyncRequired create the checkpoint a copy reads;
// InitialReplication and Resyncing copy the disks; DeltaReplication runs
// cycles.
const (
	PhaseEnabling           Phase = "enabling"
	PhaseInitialReplication Phase = "initial_replication"
	PhaseDeltaReplication   Phase = "delta_replication"
	PhaseResyncRequired     Phase = "resync_required"
	PhaseResyncing          Phase = "resyncing"
	PhaseMigrating          Phase = "migrating"
	PhaseMigrated           Phase = "migrated"
	PhaseDisabling          Phase = "disabling"
	PhaseDisabled           Phase = "disabled"
	PhasePaused             Phase = "paused"
	PhaseFailed             Phase = "failed"
)

// CopyState is where one disk's copy stands.
type CopyState string

// Copy states of a disk.
const (
	DiskPending CopyState = "pending"
	DiskCopying CopyState = "copying"
	DiskCopied  CopyState = "done"
)

// CopyStage is where the copy of a whole generation stands, once its
// checkpoint exists.
type CopyStage string

// Copy stages: disks being copied, checkpoint being merged, base being
// reported to the hub.
const (
	StageCopying   CopyStage = "copying"
	StageMerging   CopyStage = "merging"
	StageReporting CopyStage = "reporting"
)

// CycleStage is where one delta cycle stands.
type CycleStage string

// Cycle stages, in order.
const (
	CycleSwitching CycleStage = "switching"
	CycleUploading CycleStage = "uploading"
	CycleReporting CycleStage = "reporting"
)

// MigrateStage is where a migration stands.
type MigrateStage string

// Migration stages: let the running cycle finish, shut the VM down, run
// the final cycle.
const (
	MigrateDraining MigrateStage = "draining"
	MigrateShutdown MigrateStage = "shutdown"
	MigrateFinal    MigrateStage = "final"
)

// Policy is how the hub wants a VM replicated.
type Policy struct {
	// Interval is the time between two log switches.
	Interval time.Duration
	// Threads is the upload parallelism per disk; 0 is the host default.
	Threads int
	// ShutdownOnMigrate shuts the guest down before the final cycle.
	ShutdownOnMigrate bool
}

// Disk is one disk of a replicated VM.
type Disk struct {
	ID   string
	Size int64
	// Frozen is the read-only file the current generation copies.
	Frozen string
	Copy   CopyState
	// Base is the replica base blob the copy wrote.
	Base       string
	BytesDone  int64
	BytesTotal int64
	// DataWriteGUID is the disk's DataWriteGuid as of the last switch.
	DataWriteGUID string
	// PendingLogBytes is the size of the logs of the cycle in flight.
	PendingLogBytes int64
}

// CycleDisk is one disk's share of a cycle.
type CycleDisk struct {
	ID       string
	Logs     []string
	LogBytes int64
	// Object is the delta object's blob name and Bytes what was sent.
	Object string
	Bytes  int64
}

// Cycle is the delta cycle in flight.
type Cycle struct {
	Number     uint64
	Previous   uint64
	Stage      CycleStage
	Final      bool
	HostSwitch uint64
	SwitchedAt time.Time
	Disks      []CycleDisk
	// Overran is set once the next switch fell due before this cycle was
	// through.
	Overran bool
}

// Failure is why a VM is in PhaseFailed and when it is retried.
type Failure struct {
	From      Phase
	Reason    string
	Attempts  int
	NextRetry time.Time
}

// State is the durable replication state of one VM.
type State struct {
	VMID  string
	Phase Phase
	// Seq counts the transitions applied.
	Seq    uint64
	Policy Policy
	// Generation counts full copies (the initial one and each resync); it
	// names the copy jobs and the replica base blobs.
	Generation uint64
	Disks      []Disk
	// CopyStage is set while a generation is copied.
	CopyStage CopyStage
	// BaseCycle is the cycle number the copy of this generation takes.
	BaseCycle uint64
	// LastCycle is the last cycle number reported to the hub.
	LastCycle uint64
	// InFlight is the cycle in progress, if any.
	InFlight *Cycle
	// ReleasePending lists the closed logs of reported cycles that the
	// host has not yet confirmed deleted.
	ReleasePending []string
	// NextCycleAt is when the next switch is due.
	NextCycleAt time.Time
	// LastSwitchAt is the switch instant of LastCycle.
	LastSwitchAt time.Time
	// LastRPO and MaxRPO are the achieved recovery point objectives: how
	// far behind the source the hub was just before a cycle arrived.
	LastRPO, MaxRPO time.Duration
	// Overruns counts switches that waited for an unfinished upload.
	Overruns   uint64
	HostSwitch uint64
	// SwitchesNumbered says the host numbers its switches: HostSwitch is
	// known even when 0, and a switch whose answer was lost can be looked
	// up.
	SwitchesNumbered bool
	// Attempts counts failures since the last step forward.
	Attempts int
	// ResyncReason says why the VM resyncs (or will, once the cycle being
	// reported is through).
	ResyncReason  string
	ResyncPending bool
	Migrate       MigrateStage
	PausedFrom    Phase
	Failure       *Failure
	// DiffResync is set while a resync sends only the chunks that differ
	// from the replica; cleared when the hub asks for full copies.
	DiffResync bool
}

// Clone returns a deep copy of s.
func (s State) Clone() State {
	s.Disks = slices.Clone(s.Disks)
	s.ReleasePending = slices.Clone(s.ReleasePending)
	if s.InFlight != nil {
		c := *s.InFlight
		c.Disks = slices.Clone(c.Disks)
		for i := range c.Disks {
			c.Disks[i].Logs = slices.Clone(c.Disks[i].Logs)
		}
		s.InFlight = &c
	}
	if s.Failure != nil {
		f := *s.Failure
		s.Failure = &f
	}
	return s
}

// disk returns the index of the disk with id, or -1.
func (s *State) disk(id string) int {
	return slices.IndexFunc(s.Disks, func(d Disk) bool { return d.ID == id })
}

// Validate checks the invariants every reachable state holds.
func (s State) Validate() error {
	switch {
	case s.VMID == "":
		return fmt.Errorf("state: empty vm id")
	case s.Phase == PhaseFailed && s.Failure == nil:
		return fmt.Errorf("state of vm %s: failed without a failure record", s.VMID)
	case s.Phase != PhaseFailed && s.Failure != nil:
		return fmt.Errorf("state of vm %s: failure record in phase %s", s.VMID, s.Phase)
	case s.Failure != nil && (s.Failure.From == PhaseFailed || s.Failure.From == ""):
		return fmt.Errorf("state of vm %s: failed from %q", s.VMID, s.Failure.From)
	case s.Phase == PhasePaused && s.PausedFrom == "":
		return fmt.Errorf("state of vm %s: paused from nowhere", s.VMID)
	}
	return s.validateCycles()
}

func (s State) validateCycles() error {
	if s.BaseCycle > s.LastCycle+1 {
		return fmt.Errorf("state of vm %s: base cycle %d skips past last cycle %d", s.VMID, s.BaseCycle, s.LastCycle)
	}
	c := s.InFlight
	if c == nil {
		return nil
	}
	if c.Number != s.LastCycle+1 || c.Previous != s.LastCycle {
		return fmt.Errorf("state of vm %s: cycle in flight %d (previous %d) does not follow last cycle %d",
			s.VMID, c.Number, c.Previous, s.LastCycle)
	}
	if s.CopyStage != "" {
		return fmt.Errorf("state of vm %s: cycle %d in flight during a copy", s.VMID, c.Number)
	}
	return nil
}
