package stream

import (
	"time"

	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/secret"
)

// Command is one instruction to a host. Exactly one of the kind fields is
// set. ID is unique per host; Enqueue assigns one when it is empty.
type Command struct {
	ID                 string
	CreatedAt          time.Time
	EnableReplication  *EnableReplication
	DisableReplication *VMCommand
	SetThrottle        *Throttle
	Resync             *VMCommand
	TestMigrate        *TestMigrate
	Migrate            *Migrate
	RefreshSAS         *RefreshSAS
	ResyncRanges       *ResyncRanges
}

// VMCommand names the VM a command is about.
type VMCommand struct {
	VMID string
}

// EnableReplication starts replicating a VM.
type EnableReplication struct {
	VMID     string
	Interval time.Duration
	Threads  uint32
	DiskIDs  []string
	SAS      []SASGrant
}

// Throttle sets the host-wide upload limits; 0 means unlimited.
type Throttle struct {
	WorkHoursBps int64
	OffHoursBps  int64
	WorkStart    string // "HH:MM"
	WorkEnd      string
}

// TestMigrate makes a disposable copy from a recovery point.
type TestMigrate struct {
	VMID            string
	RecoveryPointID string
}

// Migrate cuts a VM over.
type Migrate struct {
	VMID           string
	ShutdownSource bool
}

// RefreshSAS replaces the SAS grants of a VM.
type RefreshSAS struct {
	VMID   string
	Grants []SASGrant
}

// SASGrant is one SAS URL for one blob or container.
type SASGrant struct {
	DiskID    string
	Purpose   string
	URL       secret.String
	ExpiresAt time.Time
}

// Event is one report from a host. Exactly one of the kind fields is set.
type Event struct {
	ID            string
	CreatedAt     time.Time
	Inventory     []state.VM // set (maybe empty) for an inventory event
	IsInventory   bool
	Progress      *Progress
	CycleManifest *CycleManifest
	Health        *Health
	ErrorReport   *ErrorReport
	SourceHashes  *SourceHashes
	ResyncHashes  *ResyncHashes
}

// SourceHashes are chunk hashes of a stopped VM's disk at its final cycle,
// for the migration's verification; a large disk's come in several events.
type SourceHashes struct {
	VMID       string
	DiskID     string
	Cycle      uint64
	ChunkBytes uint64
	FirstChunk uint64
	SHA256     []string // lowercase hex; "" for a chunk that must read as zeros
}

// Progress reports how far a disk's copy or cycle is.
type Progress struct {
	VMID       string
	DiskID     string
	Phase      string
	DoneBytes  uint64
	TotalBytes uint64
}

// CycleManifest says which delta objects make up one cycle of a VM.
type CycleManifest struct {
	VMID       string
	Cycle      uint64
	SwitchedAt time.Time
	Disks      []ManifestDisk
}

// ManifestDisk is one disk's delta object in a cycle.
type ManifestDisk struct {
	DiskID     string
	ObjectName string
	SizeBytes  uint64
	SHA256     string
}

// Health is the host's overall state.
type Health struct {
	Status  string
	Message string
}

// ErrorReport is an error the host reports about a VM (or itself).
type ErrorReport struct {
	VMID    string
	Reason  string
	Message string
}

// vmID returns the VM an event is about, if any.
func (e Event) vmID() string {
	switch {
	case e.Progress != nil:
		return e.Progress.VMID
	case e.CycleManifest != nil:
		return e.CycleManifest.VMID
	case e.ErrorReport != nil:
		return e.ErrorReport.VMID
	case e.SourceHashes != nil:
		return e.SourceHashes.VMID
	case e.ResyncHashes != nil:
		return e.ResyncHashes.VMID
	}
	return ""
}

// Kind names the event's kind.
func (e Event) Kind() string {
	switch {
	case e.IsInventory:
		return "inventory"
	case e.Progress != nil:
		return "progress"
	case e.CycleManifest != nil:
		return "cycle_manifest"
	case e.Health != nil:
		return "health"
	case e.ErrorReport != nil:
		return "error_report"
	case e.SourceHashes != nil:
		return "source_hashes"
	case e.ResyncHashes != nil:
		return "resync_hashes"
	}
	return ""
}
