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
		vm, err := vmFromProto(v)
		if err != nil {
			return nil, fmt.Errorf("%w: vm %s: %w", ErrInvalid, v.GetId(), err)
		}
		vms = append(vms, vm)
	}
	return vms, nil
}

// vmFromProto converts and bounds-checks one VM of an inventory whose id
// is already checked.
func vmFromProto(v *hubv1.Vm) (state.VM, error) {
	if err := checkVM(v); err != nil {
		return state.VM{}, err
	}
	vm := state.VM{ID: v.GetId(), Name: v.GetName(), PowerState: v.GetPowerState(),
		Generation: v.GetGeneration(), VCPUs: v.GetVcpus(), MemoryBytes: v.GetMemoryBytes()}
	for i, n := range v.GetNics() {
		if err := checkNIC(n); err != nil {
			return state.VM{}, fmt.Errorf("nic %d: %w", i, err)
		}
		vm.NICs = append(vm.NICs, state.NIC{Name: n.GetName(), SwitchName: n.GetSwitchName(), MACAddress: n.GetMacAddress()})
	}
	for _, d := range v.GetDisks() {
		if len(d.GetId()) > maxIDLen || len(d.GetName()) > maxNameLen {
			return state.VM{}, fmt.Errorf("disk id %.64q or name longer than %d or %d bytes", d.GetId(), maxIDLen, maxNameLen)
		}
		vm.Disks = append(vm.Disks, state.Disk{ID: d.GetId(), Name: d.GetName(), SizeBytes: d.GetSizeBytes()})
	}
	return vm, nil
}

// checkVM bounds the VM-wide fields and the NIC and disk counts.
func checkVM(v *hubv1.Vm) error {
	switch {
	case len(v.GetName()) > maxNameLen:
		return fmt.Errorf("name longer than %d bytes", maxNameLen)
	case len(v.GetPowerState()) > maxShortLen:
		return fmt.Errorf("power state longer than %d bytes", maxShortLen)
	case v.GetGeneration() > 2:
		return fmt.Errorf("generation %d, want 1, 2 or 0 (unknown)", v.GetGeneration())
	case v.GetVcpus() > maxVCPUs:
		return fmt.Errorf("%d vcpus, at most %d", v.GetVcpus(), maxVCPUs)
	case v.GetMemoryBytes() > maxMemoryBytes:
		return fmt.Errorf("memory of %d bytes, at most %d", v.GetMemoryBytes(), uint64(maxMemoryBytes))
	case len(v.GetNics()) > maxNICs:
		return fmt.Errorf("%d nics, at most %d", len(v.GetNics()), maxNICs)
	case len(v.GetDisks()) > maxDisks:
		return fmt.Errorf("%d disks, at most %d", len(v.GetDisks()), maxDisks)
	}
	return nil
}

// checkNIC bounds the strings of one NIC.
func checkNIC(n *hubv1.Nic) error {
	switch {
	case len(n.GetName()) > maxNameLen:
		return fmt.Errorf("name longer than %d bytes", maxNameLen)
	case len(n.GetSwitchName()) > maxNameLen:
		return fmt.Errorf("switch name longer than %d bytes", maxNameLen)
	case len(n.GetMacAddress()) > maxShortLen:
		return fmt.Errorf("mac address longer than %d bytes", maxShortLen)
	}
	return nil
}

func manifestFromProto(m *hubv1.CycleManifest) *CycleManifest {
	out := &CycleManifest{VMID: m.GetVmId(), Cycle: m.GetCycle(), SwitchedAt: time.UnixMilli(m.GetSwitchedUnixMs()).UTC()}
	for _, d := range m.GetDisks() {
		out.Disks = append(out.Disks, ManifestDisk{DiskID: d.GetDiskId(), ObjectName: d.GetObjectName(), SizeBytes: d.GetSizeBytes(), SHA256: d.GetSha256()})
	}
	return out
}
