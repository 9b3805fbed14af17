package hubclient

import (
	"time"

	"hvmigrate/shared/secret"
)

// Command is one instruction from the hub. Exactly one kind field is set.
// The same ID may arrive again (after a reconnect); the link hands each id
// to the handler once per process and acknowledges repeats itself.
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

// Throttle sets the host-wide upload limits in bits per second; 0 means
// unlimited.
type Throttle struct {
	WorkHoursBps int64
	OffHoursBps  int64
	WorkStart    string
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

// RefreshSAS replaces a VM's SAS grants.
type RefreshSAS struct {
	VMID   string
	Grants []SASGrant
}

// SASGrant is one SAS URL the hub issued.
type SASGrant struct {
	DiskID    string
	Purpose   string
	URL       secret.String
	ExpiresAt time.Time
}

// Event is one report to the hub. Exactly one kind field is set. An empty
// ID gets a new one when the event is queued.
type Event struct {
	ID            string
	CreatedAt     time.Time
	Inventory     *Inventory
	Progress      *Progress
	CycleManifest *CycleManifest
	Health        *Health
	ErrorReport   *ErrorReport
	SourceHashes  *SourceHashes
	ResyncHashes  *ResyncHashes
}

// SourceHashes are chunk hashes of a stopped VM's disk at its final cycle,
// which the hub compares with the replica before it migrates; send a large
// disk's hashes in several events.
type SourceHashes struct {
	VMID       string
	DiskID     string
	Cycle      uint64
	ChunkBytes uint64
	FirstChunk uint64
	SHA256     []string // lowercase hex; "" for a chunk that reads as zeros
}

// Inventory is the host's full list of VMs.
type Inventory struct {
	VMs []VM
}

// VM is one virtual machine. Generation, VCPUs and MemoryBytes are 0
// when the host does not know them.
type VM struct {
	ID          string
	Name        string
	PowerState  string
	Generation  uint32
	VCPUs       uint32
	MemoryBytes uint64
	NICs        []NIC
	Disks       []Disk
}

// NIC is one network adapter of a VM; SwitchName and MACAddress may be
// empty.
type NIC struct {
	Name       string
	SwitchName string
	MACAddress string
}

// Disk is one virtual disk.
type Disk struct {
	ID        string
	Name      string
	SizeBytes uint64
}

// Progress reports how far a copy or cycle is.
type Progress struct {
	VMID       string
	DiskID     string
	Phase      string
	DoneBytes  uint64
	TotalBytes uint64
}

// CycleManifest lists one cycle's delta objects.
type CycleManifest struct {
	VMID       string
	Cycle      uint64
	SwitchedAt time.Time
	Disks      []ManifestDisk
}

// ManifestDisk is one disk's delta object.
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

// ErrorReport is an error about a VM or the host.
type ErrorReport struct {
	VMID    string
	Reason  string
	Message string
}
