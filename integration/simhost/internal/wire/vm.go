package wire

import (
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"hvmigrate/integration/simhost"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
	"hvmigrate/shared/vdisk"
)

// VMToProto converts a VM's inventory.
func VMToProto(v simhost.VM) *simhostv1.Vm {
	out := &simhostv1.Vm{
		Id: v.ID, Name: v.Name, Generation: uint32(v.Generation), CpuCount: uint32(v.CPUs),
		MemoryBytes: v.MemoryBytes, Nics: NICsToProto(v.NICs), PowerState: PowerToProto(v.Power),
		Tracking: TrackingToProto(v.Tracking), NeedsResync: v.NeedsResync, ResyncReason: v.ResyncReason,
		CreatedAt: timeToProto(v.CreatedAt),
	}
	if v.Checkpoint != nil {
		out.Checkpoint = CheckpointToProto(*v.Checkpoint)
	}
	for _, d := range v.Disks {
		out.Disks = append(out.Disks, &simhostv1.Disk{
			Index: uint32(d.Index), Id: d.ID, Path: d.Path, BasePath: d.BasePath, Format: FormatToProto(d.Format),
			SizeBytes: d.Size, LogicalSectorSize: uint32(d.LogicalSectorSize), PhysicalSectorSize: uint32(d.PhysicalSectorSize),
			Identity: &simhostv1.DiskIdentity{
				DiskId: guidText(d.Identity.DiskID), DataWriteGuid: guidText(d.Identity.DataWriteGUID),
				FileWriteGuid: guidText(d.Identity.FileWriteGUID),
			},
			CurrentLogPath: d.CurrentLog,
		})
	}
	return out
}

// VMFromProto converts a VM's inventory.
func VMFromProto(p *simhostv1.Vm) simhost.VM {
	out := simhost.VM{
		ID: p.GetId(), Name: p.GetName(), Generation: int(p.GetGeneration()), CPUs: int(p.GetCpuCount()),
		MemoryBytes: p.GetMemoryBytes(), NICs: NICsFromProto(p.GetNics()), Power: PowerFromProto(p.GetPowerState()),
		Tracking: TrackingFromProto(p.GetTracking()), NeedsResync: p.GetNeedsResync(),
		ResyncReason: p.GetResyncReason(), CreatedAt: timeFromProto(p.GetCreatedAt()),
	}
	if p.GetCheckpoint() != nil {
		c := CheckpointFromProto(p.GetCheckpoint())
		out.Checkpoint = &c
	}
	for _, d := range p.GetDisks() {
		id := d.GetIdentity()
		out.Disks = append(out.Disks, simhost.Disk{
			Index: int(d.GetIndex()), ID: d.GetId(), Path: d.GetPath(), BasePath: d.GetBasePath(),
			Format: FormatFromProto(d.GetFormat()), Size: d.GetSizeBytes(),
			LogicalSectorSize: int(d.GetLogicalSectorSize()), PhysicalSectorSize: int(d.GetPhysicalSectorSize()),
			Identity: vdisk.Identity{
				DiskID: parseGUID(id.GetDiskId()), DataWriteGUID: parseGUID(id.GetDataWriteGuid()),
				FileWriteGUID: parseGUID(id.GetFileWriteGuid()),
			},
			CurrentLog: d.GetCurrentLogPath(),
		})
	}
	return out
}

// NICsToProto converts network adapters.
func NICsToProto(ns []simhost.NIC) []*simhostv1.Nic {
	var out []*simhostv1.Nic
	for _, n := range ns {
		out = append(out, &simhostv1.Nic{Name: n.Name, MacAddress: n.MACAddress, SwitchName: n.SwitchName})
	}
	return out
}

// NICsFromProto converts network adapters.
func NICsFromProto(ns []*simhostv1.Nic) []simhost.NIC {
	var out []simhost.NIC
	for _, n := range ns {
		out = append(out, simhost.NIC{Name: n.GetName(), MACAddress: n.GetMacAddress(), SwitchName: n.GetSwitchName()})
	}
	return out
}

// TrackingToProto converts a tracking state.
func TrackingToProto(t simhost.TrackingInfo) *simhostv1.Tracking {
	return &simhostv1.Tracking{Enabled: t.Enabled, LastSwitch: t.LastSwitch, StartedAt: timeToProto(t.StartedAt)}
}

// TrackingFromProto converts a tracking state.
func TrackingFromProto(t *simhostv1.Tracking) simhost.TrackingInfo {
	return simhost.TrackingInfo{Enabled: t.GetEnabled(), LastSwitch: t.GetLastSwitch(), StartedAt: timeFromProto(t.GetStartedAt())}
}

// CheckpointToProto converts a checkpoint.
func CheckpointToProto(c simhost.CheckpointInfo) *simhostv1.Checkpoint {
	return &simhostv1.Checkpoint{Id: c.ID, Name: c.Name, CreatedAt: timeToProto(c.CreatedAt)}
}

// CheckpointFromProto converts a checkpoint.
func CheckpointFromProto(c *simhostv1.Checkpoint) simhost.CheckpointInfo {
	return simhost.CheckpointInfo{ID: c.GetId(), Name: c.GetName(), CreatedAt: timeFromProto(c.GetCreatedAt())}
}

func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func guidText(g vdisk.GUID) string {
	if g.IsZero() {
		return ""
	}
	return g.String()
}

func parseGUID(s string) vdisk.GUID {
	u, err := uuid.Parse(s)
	if err != nil {
		return vdisk.GUID{}
	}
	return vdisk.GUID(u)
}
