package stream

import (
	"fmt"
	"time"

	"hvmigrate/hub/internal/state"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// commandToProto converts a command for the wire. It fails when no kind,
// or more than one, is set.
func commandToProto(c Command) (*hubv1.Command, error) {
	pc := &hubv1.Command{Id: c.ID, CreatedUnix: c.CreatedAt.Unix()}
	n := 0
	if e := c.EnableReplication; e != nil {
		n++
		pc.Kind = &hubv1.Command_EnableReplication{EnableReplication: &hubv1.EnableReplication{
			VmId: e.VMID, IntervalSeconds: int64(e.Interval / time.Second), Threads: e.Threads,
			DiskIds: e.DiskIDs, Sas: grantsToProto(e.SAS)}}
	}
	if d := c.DisableReplication; d != nil {
		n++
		pc.Kind = &hubv1.Command_DisableReplication{DisableReplication: &hubv1.DisableReplication{VmId: d.VMID}}
	}
	if t := c.SetThrottle; t != nil {
		n++
		pc.Kind = &hubv1.Command_SetThrottle{SetThrottle: &hubv1.SetThrottle{WorkHoursBps: t.WorkHoursBps,
			OffHoursBps: t.OffHoursBps, WorkStart: t.WorkStart, WorkEnd: t.WorkEnd}}
	}
	if r := c.Resync; r != nil {
		n++
		pc.Kind = &hubv1.Command_Resync{Resync: &hubv1.Resync{VmId: r.VMID}}
	}
	if t := c.TestMigrate; t != nil {
		n++
		pc.Kind = &hubv1.Command_TestMigrate{TestMigrate: &hubv1.TestMigrate{VmId: t.VMID, RecoveryPointId: t.RecoveryPointID}}
	}
	if m := c.Migrate; m != nil {
		n++
		pc.Kind = &hubv1.Command_Migrate{Migrate: &hubv1.Migrate{VmId: m.VMID, ShutdownSource: m.ShutdownSource}}
	}
	if r := c.RefreshSAS; r != nil {
		n++
		pc.Kind = &hubv1.Command_RefreshSas{RefreshSas: &hubv1.RefreshSas{VmId: r.VMID, Sas: grantsToProto(r.Grants)}}
	}
	if r := c.ResyncRanges; r != nil {
		n++
		pc.Kind = &hubv1.Command_ResyncRanges{ResyncRanges: resyncRangesToProto(r)}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: command %s sets %d kinds, want 1", ErrInvalid, c.ID, n)
	}
	return pc, nil
}

func grantsToProto(gs []SASGrant) []*hubv1.SasGrant {
	out := make([]*hubv1.SasGrant, 0, len(gs))
	for _, g := range gs {
		out = append(out, &hubv1.SasGrant{DiskId: g.DiskID, Purpose: g.Purpose, Url: g.URL.Reveal(), ExpiresUnix: g.ExpiresAt.Unix()})
	}
	return out
}

// commandKind names the kind of a wire command, for the store.
func commandKind(pc *hubv1.Command) string {
	switch pc.GetKind().(type) {
	case *hubv1.Command_EnableReplication:
		return "enable_replication"
	case *hubv1.Command_DisableReplication:
		return "disable_replication"
	case *hubv1.Command_SetThrottle:
		return "set_throttle"
	case *hubv1.Command_Resync:
		return "resync"
	case *hubv1.Command_TestMigrate:
		return "test_migrate"
	case *hubv1.Command_Migrate:
		return "migrate"
	case *hubv1.Command_RefreshSas:
		return "refresh_sas"
	case *hubv1.Command_ResyncRanges:
		return "resync_ranges"
	}
	return "unknown"
}

// maxHashesPerEvent bounds one SourceHashes event (65 bytes of text per
// hash keeps it far below the 4 MiB message limit).
const maxHashesPerEvent = 32768

// eventFromProto converts and bounds-checks an event from a host.
func eventFromProto(pe *hubv1.Event) (Event, error) {
	if pe.GetId() == "" || len(pe.GetId()) > maxIDLen {
		return Event{}, fmt.Errorf("%w: event id must be 1-%d characters", ErrInvalid, maxIDLen)
	}
	ev := Event{ID: pe.GetId(), CreatedAt: time.Unix(pe.GetCreatedUnix(), 0).UTC()}
	switch k := pe.GetKind().(type) {
	case *hubv1.Event_Inventory:
		vms, err := inventoryFromProto(k.Inventory)
		ev.Inventory, ev.IsInventory = vms, true
		return ev, err
	case *hubv1.Event_Progress:
		p := k.Progress
		ev.Progress = &Progress{VMID: p.GetVmId(), DiskID: p.GetDiskId(), Phase: p.GetPhase(), DoneBytes: p.GetDoneBytes(), TotalBytes: p.GetTotalBytes()}
	case *hubv1.Event_CycleManifest:
		ev.CycleManifest = manifestFromProto(k.CycleManifest)
	case *hubv1.Event_Health:
		ev.Health = &Health{Status: k.Health.GetStatus(), Message: k.Health.GetMessage()}
	case *hubv1.Event_ErrorReport:
		e := k.ErrorReport
		ev.ErrorReport = &ErrorReport{VMID: e.GetVmId(), Reason: e.GetReason(), Message: e.GetMessage()}
	case *hubv1.Event_SourceHashes:
		h := k.SourceHashes
		if len(h.GetSha256()) > maxHashesPerEvent {
			return Event{}, fmt.Errorf("%w: event %s carries more than %d hashes", ErrInvalid, ev.ID, maxHashesPerEvent)
		}
		ev.SourceHashes = &SourceHashes{VMID: h.GetVmId(), DiskID: h.GetDiskId(), Cycle: h.GetCycle(),
			ChunkBytes: h.GetChunkBytes(), FirstChunk: h.GetFirstChunk(), SHA256: h.GetSha256()}
	case *hubv1.Event_ResyncHashes:
		h, err := resyncHashesFromProto(ev.ID, k.ResyncHashes)
		ev.ResyncHashes = h
		return ev, err
	default:
		return Event{}, fmt.Errorf("%w: event %s has no kind", ErrInvalid, ev.ID)
	}
	return ev, nil
}

func inventoryFromProto(inv *hubv1.Inventory) ([]state.VM, error) {
	if len(inv.GetVms()) > maxVMs {
		return nil, fmt.Errorf("%w: inventory lists more than %d VMs", ErrInvalid, maxVMs)
	}
	vms := make([]state.VM, 0, len(inv.GetVms()))
	seen := map[string]bool{}
	for _, v := range inv.GetVms() {
		if v.GetId() == "" || len(v.GetId()) > maxIDLen || seen[v.GetId()] {
			return nil, fmt.Errorf("%w: vm id %q is empty, too long or repeated", ErrInvalid, v.GetId())
		}
		seen[v.GetId()] = true
		vm := state.VM{ID: v.GetId(), Name: v.GetName(), PowerState: v.GetPowerState()}
		for _, d := range v.GetDisks() {
			vm.Disks = append(vm.Disks, state.Disk{ID: d.GetId(), Name: d.GetName(), SizeBytes: d.GetSizeBytes()})
		}
		vms = append(vms, vm)
	}
	return vms, nil
}

func manifestFromProto(m *hubv1.CycleManifest) *CycleManifest {
	out := &CycleManifest{VMID: m.GetVmId(), Cycle: m.GetCycle(), SwitchedAt: time.UnixMilli(m.GetSwitchedUnixMs()).UTC()}
	for _, d := range m.GetDisks() {
		out.Disks = append(out.Disks, ManifestDisk{DiskID: d.GetDiskId(), ObjectName: d.GetObjectName(), SizeBytes: d.GetSizeBytes(), SHA256: d.GetSha256()})
	}
	return out
}
