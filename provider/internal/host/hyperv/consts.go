package hyperv

// Values from the Hyper-V WMI provider (root\virtualization\v2).
const (
	// Method return values shared by every method.
	codeCompleted  uint32 = 0
	codeJobStarted uint32 = 4096

	// CIM-style return values (snapshot service).
	codeNotSupported  uint32 = 1
	codeFailed        uint32 = 2
	codeTimeout       uint32 = 3
	codeInvalidParam  uint32 = 4
	codeInvalidState  uint32 = 5
	codeInvalidType   uint32 = 6
	codeVendorFailed  uint32 = 32768
	codeAccessDenied  uint32 = 32769
	codeVendorNotSupp uint32 = 32770
	codeStatusUnknown uint32 = 32771
	codeVendorTimeout uint32 = 32772
	codeSystemInUse   uint32 = 32774
	codeNotAvailable  uint32 = 32777
	codeFileNotFound  uint32 = 32779
)

// Msvm_ConcreteJob.JobState values.
const (
	jobStarting   uint16 = 3
	jobRunning    uint16 = 4
	jobCompleted  uint16 = 7
	jobTerminated uint16 = 8
	jobKilled     uint16 = 9
	jobException  uint16 = 10
)

// Msvm_ComputerSystem EnabledState / RequestStateChange values.
const (
	stateEnabled  uint16 = 2 // running
	stateDisabled uint16 = 3 // off; as a request: turn off
)

// Msvm_ComputerSystem.ReplicationState values the backend looks at.
const (
	replDisabled        uint16 = 0
	replReady           uint16 = 1
	replWaitingInitial  uint16 = 2
	replReplicating     uint16 = 3
	replSyncedComplete  uint16 = 4
	replSuspended       uint16 = 7
	replCritical        uint16 = 8
	replWaitingResync   uint16 = 9
	replResynchronizing uint16 = 10
	replResyncSuspended uint16 = 11
)

// ReplicationHealth value for "critical".
const replHealthCritical uint16 = 3

// Snapshot types and settings.
const (
	// snapshotTypeRecovery is the vendor-specific CreateSnapshot type
	// Hyper-V uses for recovery (backup and replication) checkpoints.
	snapshotTypeRecovery uint16 = 32768
	// vsTypeRecovery is the VirtualSystemType of such a snapshot.
	vsTypeRecovery = "Microsoft:Hyper-V:Snapshot:Recovery"
)

// Resource subtypes of Msvm_StorageAllocationSettingData.
const (
	subTypeVHD = "Microsoft:Hyper-V:Virtual Hard Disk"
	subTypeISO = "Microsoft:Hyper-V:Virtual CD/DVD Disk"
)

// Msvm_VirtualHardDiskSettingData.Format values.
const (
	formatVHD    uint16 = 2
	formatVHDX   uint16 = 3
	formatVHDSet uint16 = 4
)
