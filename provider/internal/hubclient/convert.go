package hubclient

import (
	"fmt"
	"time"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/secret"
)

// commandFromProto converts a command from the hub.
func commandFromProto(pc *hubv1.Command) (Command, error) {
	c := Command{ID: pc.GetId(), CreatedAt: time.Unix(pc.GetCreatedUnix(), 0).UTC()}
	if c.ID == "" {
		return Command{}, fmt.Errorf("command without id")
	}
	switch k := pc.GetKind().(type) {
	case *hubv1.Command_EnableReplication:
		e := k.EnableReplication
		c.EnableReplication = &EnableReplication{VMID: e.GetVmId(), Interval: time.Duration(e.GetIntervalSeconds()) * time.Second,
			Threads: e.GetThreads(), DiskIDs: e.GetDiskIds(), SAS: grantsFromProto(e.GetSas())}
	case *hubv1.Command_DisableReplication:
		c.DisableReplication = &VMCommand{VMID: k.DisableReplication.GetVmId()}
	case *hubv1.Command_SetThrottle:
		t := k.SetThrottle
		c.SetThrottle = &Throttle{WorkHoursBps: t.GetWorkHoursBps(), OffHoursBps: t.GetOffHoursBps(), WorkStart: t.GetWorkStart(), WorkEnd: t.GetWorkEnd()}
	case *hubv1.Command_Resync:
		c.Resync = &VMCommand{VMID: k.Resync.GetVmId()}
	case *hubv1.Command_TestMigrate:
		c.TestMigrate = &TestMigrate{VMID: k.TestMigrate.GetVmId(), RecoveryPointID: k.TestMigrate.GetRecoveryPointId()}
	case *hubv1.Command_Migrate:
		c.Migrate = &Migrate{VMID: k.Migrate.GetVmId(), ShutdownSource: k.Migrate.GetShutdownSource()}
	case *hubv1.Command_RefreshSas:
		c.RefreshSAS = &RefreshSAS{VMID: k.RefreshSas.GetVmId(), Grants: grantsFromProto(k.RefreshSas.GetSas())}
	case *hubv1.Command_ResyncRanges:
		c.ResyncRanges = resyncRangesFromProto(k.ResyncRanges)
	default:
		return Command{}, fmt.Errorf("command %s: unknown kind", c.ID)
	}
	return c, nil
}

func grantsFromProto(gs []*hubv1.SasGrant) []SASGrant {
	out := make([]SASGrant, 0, len(gs))
	for _, g := range gs {
		out = append(out, SASGrant{DiskID: g.GetDiskId(), Purpose: g.GetPurpose(), URL: secret.New(g.GetUrl()),
			ExpiresAt: time.Unix(g.GetExpiresUnix(), 0).UTC()})
	}
	return out
}

// eventToProto converts an event for the wire.
func eventToProto(e Event) (*hubv1.Event, error) {
	pe := &hubv1.Event{Id: e.ID, CreatedUnix: e.CreatedAt.Unix()}
	switch {
	case e.Inventory != nil:
		pe.Kind = &hubv1.Event_Inventory{Inventory: inventoryToProto(e.Inventory)}
	case e.Progress != nil:
		p := e.Progress
		pe.Kind = &hubv1.Event_Progress{Progress: &hubv1.Progress{VmId: p.VMID, DiskId: p.DiskID, Phase: p.Phase, DoneBytes: p.DoneBytes, TotalBytes: p.TotalBytes}}
	case e.CycleManifest != nil:
		pe.Kind = &hubv1.Event_CycleManifest{CycleManifest: manifestToProto(e.CycleManifest)}
	case e.Health != nil:
		pe.Kind = &hubv1.Event_Health{Health: &hubv1.Health{Status: e.Health.Status, Message: e.Health.Message}}
	case e.ErrorReport != nil:
		r := e.ErrorReport
		pe.Kind = &hubv1.Event_ErrorReport{ErrorReport: &hubv1.ErrorReport{VmId: r.VMID, Reason: r.Reason, Message: r.Message}}
	case e.SourceHashes != nil:
		h := e.SourceHashes
		pe.Kind = &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{VmId: h.VMID, DiskId: h.DiskID, Cycle: h.Cycle,
			ChunkBytes: h.ChunkBytes, FirstChunk: h.FirstChunk, Sha256: h.SHA256}}
	case e.ResyncHashes != nil:
		pe.Kind = &hubv1.Event_ResyncHashes{ResyncHashes: resyncHashesToProto(e.ResyncHashes)}
	default:
		return nil, fmt.Errorf("event %s: no kind set", e.ID)
	}
	return pe, nil
}

func inventoryToProto(inv *Inventory) *hubv1.Inventory {
	out := &hubv1.Inventory{}
	for _, vm := range inv.VMs {
		pv := &hubv1.Vm{Id: vm.ID, Name: vm.Name, PowerState: vm.PowerState,
			Generation: vm.Generation, Vcpus: vm.VCPUs, MemoryBytes: vm.MemoryBytes}
		for _, n := range vm.NICs {
			pv.Nics = append(pv.Nics, &hubv1.Nic{Name: n.Name, SwitchName: n.SwitchName, MacAddress: n.MACAddress})
		}
		for _, d := range vm.Disks {
			pv.Disks = append(pv.Disks, &hubv1.Disk{Id: d.ID, Name: d.Name, SizeBytes: d.SizeBytes})
		}
		out.Vms = append(out.Vms, pv)
	}
	return out
}

func manifestToProto(m *CycleManifest) *hubv1.CycleManifest {
	out := &hubv1.CycleManifest{VmId: m.VMID, Cycle: m.Cycle, SwitchedUnixMs: m.SwitchedAt.UnixMilli()}
	for _, d := range m.Disks {
		out.Disks = append(out.Disks, &hubv1.ManifestDisk{DiskId: d.DiskID, ObjectName: d.ObjectName, SizeBytes: d.SizeBytes, Sha256: d.SHA256})
	}
	return out
}
