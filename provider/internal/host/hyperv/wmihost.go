package hyperv

import (
	"context"
	"time"
)

// wmiHost is the raw access the backend needs of a Hyper-V host: one method
// per WMI query or method call (plus the two file operations on the host's
// disks and logs), with no decisions in it. The Windows implementation talks
// to root\virtualization\v2; tests use a fake. Everything that decides
// (error classes, job polling, retries, which checkpoint is ours, how logs
// chain) lives above it, in the Backend.
//
// Methods that start work return the method's ReturnValue and, for 4096,
// the path of the job; they do not wait. A method that fails before WMI
// returns a ReturnValue returns an error (a *comError when the failure has
// an HRESULT). Lookups of a VM that does not exist return errNoSuchVM.
type wmiHost interface {
	// queryVMs lists the virtual machines (Msvm_ComputerSystem whose
	// Caption is "Virtual Machine") with their realized settings.
	queryVMs(ctx context.Context) ([]vmRecord, error)
	// queryVM returns one VM by its Name (the VM GUID).
	queryVM(ctx context.Context, vmID string) (vmRecord, error)
	// vhdSettings calls Msvm_ImageManagementService.GetVirtualHardDiskSettingData.
	vhdSettings(ctx context.Context, path string) (vhdRecord, error)
	// dataWriteGUID reads the DataWriteGuid from a VHDX file's header.
	dataWriteGUID(ctx context.Context, path string) (string, error)

	// createSnapshot calls Msvm_VirtualSystemSnapshotService.CreateSnapshot.
	createSnapshot(ctx context.Context, vmID string, snapshotType uint16) (callResult, error)
	// renameSnapshot sets the ElementName of a snapshot's
	// Msvm_VirtualSystemSettingData (ModifySystemSettings).
	renameSnapshot(ctx context.Context, snapshotPath, name string) (callResult, error)
	// destroySnapshot calls DestroySnapshot: the snapshot is merged away.
	destroySnapshot(ctx context.Context, snapshotPath string) (callResult, error)

	// requestStateChange calls Msvm_ComputerSystem.RequestStateChange.
	requestStateChange(ctx context.Context, vmID string, state uint16) (callResult, error)
	// initiateShutdown calls Msvm_ShutdownComponent.InitiateShutdown;
	// errNoShutdownComponent when the VM has no running shutdown service.
	initiateShutdown(ctx context.Context, vmID string, force bool, reason string) (callResult, error)

	// createRelationship calls Msvm_ReplicationService.CreateReplicationRelationship.
	createRelationship(ctx context.Context, vmID string, s trackingSettings) (callResult, error)
	// startReplication calls Msvm_ReplicationService.StartReplication.
	startReplication(ctx context.Context, vmID string) (callResult, error)
	// removeRelationship calls Msvm_ReplicationService.RemoveReplicationRelationship.
	removeRelationship(ctx context.Context, vmID string) (callResult, error)
	// resynchronize calls Msvm_ReplicationService.Resynchronize.
	resynchronize(ctx context.Context, vmID string) (callResult, error)
	// switchLog asks the host to close the current log of every disk of
	// the VM. See doc.go: no documented WMI method does this.
	switchLog(ctx context.Context, vmID string) (callResult, error)

	// jobStatus reads one Msvm_ConcreteJob once.
	jobStatus(ctx context.Context, jobPath string) (jobRecord, error)

	// listLogs reads the header of every .hrl file in dir whose name
	// starts with stem.
	listLogs(ctx context.Context, dir, stem string) ([]logFile, error)
	// removeFile deletes one file.
	removeFile(ctx context.Context, path string) error
}

// vmRecord is what one Msvm_ComputerSystem and its realized
// Msvm_VirtualSystemSettingData say about a VM.
type vmRecord struct {
	ID           string // Msvm_ComputerSystem.Name
	Name         string // ElementName
	EnabledState uint16
	// SubType is VirtualSystemSubType, "Microsoft:Hyper-V:SubType:1" or ":2".
	SubType     string
	CPUs        int   // Msvm_ProcessorSettingData.VirtualQuantity
	MemoryMB    int64 // Msvm_MemorySettingData.VirtualQuantity
	NICs        []nicRecord
	Disks       []diskRecord
	Snapshots   []snapshotRecord
	Replication replicationRecord
}

// diskRecord is one Msvm_StorageAllocationSettingData of the VM.
type diskRecord struct {
	// Path is HostResource[0]: the file the VM writes now.
	Path string
	// SubType is ResourceSubType ("Microsoft:Hyper-V:Virtual Hard Disk"
	// for files; pass-through disks have another).
	SubType string
}

// nicRecord is one Msvm_SyntheticEthernetPortSettingData.
type nicRecord struct {
	Name       string
	Address    string // 12 hex digits, no separators
	SwitchName string // ElementName of the connected switch, if any
}

// snapshotRecord is one snapshot (Msvm_VirtualSystemSettingData
// associated through Msvm_SnapshotOfVirtualSystem).
type snapshotRecord struct {
	Path       string // WMI object path, for DestroySnapshot
	InstanceID string
	Name       string // ElementName
	Type       string // VirtualSystemType
	Created    time.Time
}

// replicationRecord is the VM's Hyper-V Replica state.
type replicationRecord struct {
	Mode   uint16 // ReplicationMode: 0 none, 1 primary, ...
	State  uint16 // ReplicationState
	Health uint16 // ReplicationHealth
}

// vhdRecord is the Msvm_VirtualHardDiskSettingData of one file.
type vhdRecord struct {
	Path              string
	ParentPath        string
	Format            uint16 // 2 VHD, 3 VHDX, 4 VHD Set
	Type              uint16 // 2 fixed, 3 dynamic, 4 differencing
	MaxInternalSize   int64
	LogicalSectorSize int
	VirtualDiskID     string
}

// callResult is what a WMI method returned.
type callResult struct {
	Code uint32
	Job  string // the Job out parameter, set when Code is 4096
}

// jobRecord is one reading of an Msvm_ConcreteJob.
type jobRecord struct {
	State       uint16
	ErrorCode   uint16
	Description string // ErrorDescription
	Percent     uint16
}

// trackingSettings are the Msvm_ReplicationSettingData the backend sets.
type trackingSettings struct {
	Provider        string // Msvm_ReplicationProvider Name (CLSID)
	IntervalSeconds uint16
	DiskPaths       []string // disks to track
}

// logFile is one .hrl file as its header describes it.
type logFile struct {
	Path string
	// ID and Prev are the header's UniqueId and PreviousUniqueId.
	ID, Prev string
	// Closed is set for a log Hyper-V closed (EOLLocation non-zero).
	Closed bool
	// Busy is set when the file could not be opened (the log being
	// written is expected to be busy).
	Busy bool
	// Err is set when the file was read but its header is not a valid
	// HRL header.
	Err error
}
