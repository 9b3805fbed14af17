package simhost

import (
	"time"

	"hvmigrate/shared/vdisk"
)

// MaxDisks is the number of disks a VM may have.
const MaxDisks = 16

// PowerState is a VM's power state.
type PowerState string

// Power states.
const (
	PowerOff      PowerState = "off"
	PowerRunning  PowerState = "running"
	PowerStopping PowerState = "stopping"
)

// DiskFormat is the container format of a disk.
type DiskFormat string

// Disk formats.
const (
	FormatVHDXDynamic DiskFormat = "vhdx-dynamic"
	FormatVHDXFixed   DiskFormat = "vhdx-fixed"
	FormatVHDFixed    DiskFormat = "vhd-fixed"
)

// IsVHDX reports whether the format is a VHDX variant.
func (f DiskFormat) IsVHDX() bool { return f == FormatVHDXDynamic || f == FormatVHDXFixed }

// StopMode says how a VM is stopped.
type StopMode string

// Stop modes.
const (
	// StopShutdown drains in-flight writes and workloads, then flushes.
	StopShutdown StopMode = "shutdown"
	// StopTurnOff cuts the power: running workloads end at once.
	StopTurnOff StopMode = "turn-off"
)

// NIC is a virtual network adapter (inventory only).
type NIC struct {
	Name       string `json:"name"`
	MACAddress string `json:"mac_address"`
	SwitchName string `json:"switch_name"`
}

// DiskSpec describes a disk to create.
type DiskSpec struct {
	// Size is the virtual size in bytes: a multiple of 1 MiB.
	Size int64 `json:"size"`
	// Format defaults to FormatVHDXDynamic.
	Format DiskFormat `json:"format"`
	// LogicalSectorSize is 512 (default) or 4096; fixed VHD is always 512.
	LogicalSectorSize int `json:"logical_sector_size"`
}

// VMSpec describes a VM to create.
type VMSpec struct {
	Name        string     `json:"name"`
	Generation  int        `json:"generation"`
	CPUs        int        `json:"cpus"`
	MemoryBytes int64      `json:"memory_bytes"`
	NICs        []NIC      `json:"nics"`
	Disks       []DiskSpec `json:"disks"`
}

// VM is the inventory view of a VM.
type VM struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Generation   int             `json:"generation"`
	CPUs         int             `json:"cpus"`
	MemoryBytes  int64           `json:"memory_bytes"`
	NICs         []NIC           `json:"nics"`
	Power        PowerState      `json:"power"`
	Disks        []Disk          `json:"disks"`
	Tracking     TrackingInfo    `json:"tracking"`
	Checkpoint   *CheckpointInfo `json:"checkpoint,omitempty"`
	NeedsResync  bool            `json:"needs_resync"`
	ResyncReason string          `json:"resync_reason,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

// Disk is the inventory view of one disk.
type Disk struct {
	Index int    `json:"index"`
	ID    string `json:"id"`
	// Path is the current top file of the disk's chain (the AVHDX child
	// while a checkpoint exists).
	Path               string         `json:"path"`
	BasePath           string         `json:"base_path"`
	Format             DiskFormat     `json:"format"`
	Size               int64          `json:"size"`
	LogicalSectorSize  int            `json:"logical_sector_size"`
	PhysicalSectorSize int            `json:"physical_sector_size"`
	Identity           vdisk.Identity `json:"identity"`
	// CurrentLog is the open change tracking log, empty when tracking is off.
	CurrentLog string `json:"current_log,omitempty"`
}

// TrackingInfo is a VM's change tracking state.
type TrackingInfo struct {
	Enabled bool `json:"enabled"`
	// LastSwitch is the number of the last log switch (0: none yet).
	LastSwitch uint64    `json:"last_switch"`
	StartedAt  time.Time `json:"started_at,omitzero"`
}

// CheckpointInfo describes a VM's checkpoint.
type CheckpointInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CheckpointSpec describes a checkpoint to create.
type CheckpointSpec struct {
	Name string
	// StartTracking also starts change tracking at the checkpoint's instant,
	// so no write falls between the frozen view and the first log.
	StartTracking bool
}

// FrozenDisk is a disk's read-only parent "as of" the checkpoint.
type FrozenDisk struct {
	Index  int    `json:"index"`
	DiskID string `json:"disk_id"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
}

// WriteRequest is one guest write: Data, or Length bytes of Pattern.
type WriteRequest struct {
	VMID    string
	Disk    int
	Offset  int64
	Data    []byte
	Length  int64
	Pattern byte
}

// DiskChecksum is the SHA-256 (hex) of a disk's virtual content.
type DiskChecksum struct {
	Index  int    `json:"index"`
	DiskID string `json:"disk_id"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// SwitchResult is what a log switch closed.
type SwitchResult struct {
	Number uint64         `json:"number"`
	Disks  []SwitchedDisk `json:"disks"`
	// NeedsResync is set when the switch found a log it could not close
	// cleanly: the chain restarted and the VM needs a resync.
	NeedsResync  bool   `json:"needs_resync,omitempty"`
	ResyncReason string `json:"resync_reason,omitempty"`
}

// SwitchedDisk lists, for one disk, the logs a switch closed (oldest
// first; more than one after a graceful daemon restart), the new log, and
// the disk's checksum at the switch instant.
type SwitchedDisk struct {
	Index      int      `json:"index"`
	DiskID     string   `json:"disk_id"`
	ClosedLogs []string `json:"closed_logs"`
	NewLog     string   `json:"new_log"`
	SHA256     string   `json:"sha256,omitempty"`
}
