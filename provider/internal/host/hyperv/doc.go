// Package hyperv is the Hyper-V host backend: host.Backend driven through
// the Hyper-V WMI provider (namespace root\virtualization\v2).
//
// # What has run where
//
// The package is split at the wmiHost interface (wmihost.go). Everything
// above it is platform-neutral and unit-tested on Linux against an
// in-memory fake: mapping WMI records to host.VM and host.Disk, disk
// identity across checkpoints, which checkpoint is ours and which are
// foreign, method return codes and job polling with timeouts, retries of
// transient failures, error classes, graceful and forced shutdown, and the
// discovery and chain ordering of closed .hrl logs. The file helpers
// (reading HRL headers and VHDX DataWriteGuids) and the CIM-XML parser are
// tested on Linux with real files and documents.
//
// The implementation of wmiHost, every file ending in _windows.go, has
// NEVER RUN ON A REAL HYPER-V HOST. It compiles and passes go vet for
// GOOS=windows, nothing more. Every WMI call below is what the public
// Msvm_* documentation leads us to expect; the numbered assumptions are
// the places most likely to be wrong and must be checked on a host before
// this backend is trusted.
//
// # The WMI calls and what each is expected to do
//
//   - Inventory, VM: Msvm_ComputerSystem (Caption "Virtual Machine");
//     through Msvm_SettingsDefineState its realized
//     Msvm_VirtualSystemSettingData (VirtualSystemSubType gives the
//     generation); through Msvm_VirtualSystemSettingDataComponent the
//     processor and memory settings (VirtualQuantity), the
//     Msvm_StorageAllocationSettingData of each disk (HostResource[0] is
//     the file the VM writes now), Msvm_SyntheticEthernetPortSettingData
//     and the Msvm_EthernetPortAllocationSettingData that connects each
//     adapter to a switch; through Msvm_SnapshotOfVirtualSystem its
//     snapshots. ReplicationMode, ReplicationState and ReplicationHealth of
//     the VM tell whether Hyper-V Replica tracks it.
//   - Disk size, format, parent and identity:
//     Msvm_ImageManagementService.GetVirtualHardDiskSettingData, whose
//     SettingData is an embedded Msvm_VirtualHardDiskSettingData. The disk
//     id is the VirtualDiskId of the chain's base file, so it does not
//     change when a checkpoint moves the VM onto an AVHDX. The VHDX
//     DataWriteGuid is read from the file header, not from WMI.
//   - CreateCheckpoint: Msvm_VirtualSystemSnapshotService.CreateSnapshot
//     with SnapshotType 32768 (a recovery snapshot, the kind backup and
//     Hyper-V Replica use) and crash-consistent
//     Msvm_VirtualSystemSnapshotSettingData; then
//     Msvm_VirtualSystemManagementService.ModifySystemSettings sets the
//     snapshot's ElementName to Config.CheckpointName, which is how the
//     backend later tells its checkpoint from foreign ones. The frozen
//     file of each disk is its pre-snapshot file, checked to be the parent
//     of the new current file. A VM with any existing checkpoint, a
//     pass-through disk or a VHD Set is refused.
//   - DeleteCheckpoint: DestroySnapshot of our snapshot, which merges the
//     AVHDX back (a job, bounded by Config.MergeTimeout).
//   - Shutdown: Msvm_ShutdownComponent.InitiateShutdown (Force false) when
//     the guest's shutdown service runs, then polling EnabledState; turning
//     off is Msvm_ComputerSystem.RequestStateChange(3), only when the
//     caller asked for force.
//   - StartTracking: Msvm_ReplicationService.CreateReplicationRelationship
//     with an Msvm_ReplicationSettingData naming the registered external
//     replication provider (Config.ReplicationProvider), the interval,
//     the disks, and write-order preservation across disks; then
//     StartReplication, which opens the first log of every disk.
//     StopTracking: RemoveReplicationRelationship. AcknowledgeResync:
//     Resynchronize when Hyper-V Replica itself waits for one.
//   - Jobs: a return value of 4096 comes with an Msvm_ConcreteJob, polled
//     (JobState, ErrorCode, ErrorDescription) every Config.PollInterval
//     until it completes, fails, or the timeout passes.
//
// # Assumptions about Hyper-V Replica (to verify on a host)
//
//  1. Log switch. There is no documented public WMI method that makes
//     Hyper-V Replica close the current logs now. Hyper-V Replica closes
//     the logs of a VM itself every ReplicationInterval (30 s, 5 or
//     15 min) and hands them to the replication provider. For a replica
//     that is Azure rather than another Hyper-V host, that provider is an
//     external one registered with the Virtual Machine Management Service
//     through COM (Msvm_ReplicationProvider documents that such providers
//     exist and are reached through COM, but not the COM interface). The
//     closest documented mechanism is therefore the interval itself: on
//     Windows switchLog asks nothing, and SwitchLogs waits (up to
//     Config.SwitchTimeout, which must exceed the interval) until every
//     disk shows a newly closed log. Whether Hyper-V keeps closing logs on
//     schedule, and leaves them in place, when no provider consumes them
//     is unverified; so is whether it closes a log for a disk that had no
//     writes.
//  2. Replication provider. Tracking needs an external provider registered
//     on the host; hvmigrate does not ship one. With
//     Config.ReplicationProvider empty, tracking fails with
//     host.ErrUnsupported. Which form the ReplicationProvider property
//     takes (object path, InstanceID or Name) is a guess: the object
//     path. StartReplication is called with InitialReplicationType 1
//     (network); hvmigrate copies the initial data from its own checkpoint.
//  3. One instant across disks. The switch is taken to be VM-wide and
//     crash-consistent because EnableWriteOrderPreservationAcrossDisks is
//     set; the backend also only returns once every disk has switched.
//  4. Log location and naming. The logs of a disk are taken to be the .hrl
//     files in the "Hyper-V Replica" folder (Config.LogFolderName) beside
//     the chain's base file, whose names start with the base file's name
//     without extension. Order comes from the headers (UniqueId and
//     PreviousUniqueId, [MS-HRL]), never from names or times; the log
//     being written is the one whose EOLLocation is 0, or that cannot be
//     opened.
//  5. Tracking starts before the snapshot. CreateCheckpoint with tracking
//     starts replication first, then snapshots: writes in between are in
//     both the frozen files and the first log, which is harmless since
//     replaying a write is idempotent. Writes are taken to be tracked on
//     the virtual disk, whichever file of its chain receives them.
//  6. Identity. An AVHDX is assumed to keep the guest-visible VirtualDiskId
//     of its parent; the backend does not depend on it (it uses the base
//     file's id), but a VHD (not VHDX) without VirtualDiskId is refused.
//  7. Recovery snapshot type and names: SnapshotType 32768 and
//     VirtualSystemType "Microsoft:Hyper-V:Snapshot:Recovery" come from
//     the documented vendor range and Microsoft's samples, and renaming a
//     recovery snapshot through ModifySystemSettings is assumed allowed.
//  8. Resync. Hyper-V Replica's own resync state (WaitingForResync, or
//     Critical with critical health) is reported as ResyncNeeded, and
//     AcknowledgeResync calls Resynchronize. With an external provider,
//     what Resynchronize then expects of the provider is not documented.
//  9. Releasing logs. ReleaseLogs deletes closed .hrl files the provider
//     no longer needs (their cycle reached the hub) with an ordinary file
//     delete, assuming Hyper-V Replica neither holds closed logs open nor
//     minds them disappearing while it keeps tracking. Only files the
//     disks' log folders list as closed are deleted; the open log is
//     refused. This has never run against Hyper-V Replica.
//
// # Other limits
//
// The backend remembers the last log it handed out per disk in memory, so
// after a restart the first switch hands out every closed log still
// present (ReleaseLogs keeps that set small). Hyper-V does not number its
// switches, so GetSwitch finds none: a provider that died during a switch
// resyncs the VM. The WMI library logs each query through the standard
// logger.
package hyperv
