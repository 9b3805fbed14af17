package hublink

import (
	"fmt"
	"math"
	"path"
	"strings"

	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
)

// manifestEventID names a manifest's event: the same for every delivery
// of the same cycle.
func manifestEventID(m replication.Manifest) string {
	return fmt.Sprintf("manifest-%s-c%d", m.VMID, m.Cycle)
}

// manifestToEvent maps a manifest to the stream's form. The hub learns
// nothing of the kind, previous cycle, generation, host switch, log ids
// or RPO: its own state gives it the order and it measures RPO itself.
func manifestToEvent(m replication.Manifest) *hubclient.CycleManifest {
	out := &hubclient.CycleManifest{VMID: m.VMID, Cycle: m.Cycle, SwitchedAt: m.SwitchedAt}
	for _, d := range m.Disks {
		out.Disks = append(out.Disks, hubclient.ManifestDisk{DiskID: d.DiskID, ObjectName: d.Object, SizeBytes: uint64(max(d.Bytes, 0))})
	}
	return out
}

// inventoryOf maps the host's VMs to the stream's inventory.
func inventoryOf(vms []host.VM) *hubclient.Inventory {
	inv := &hubclient.Inventory{VMs: make([]hubclient.VM, 0, len(vms))}
	for _, vm := range vms {
		v := hubclient.VM{ID: vm.ID, Name: vm.Name, PowerState: string(vm.Power), Generation: nonNegative32(vm.Generation),
			VCPUs: nonNegative32(vm.CPUs), MemoryBytes: uint64(max(vm.MemoryBytes, 0))}
		for _, n := range vm.NICs {
			v.NICs = append(v.NICs, hubclient.NIC{Name: n.Name, SwitchName: n.SwitchName, MACAddress: n.MACAddress})
		}
		for _, d := range vm.Disks {
			v.Disks = append(v.Disks, hubclient.Disk{ID: d.ID, Name: diskName(d.Path), SizeBytes: uint64(max(d.VirtualSize, 0))})
		}
		inv.VMs = append(inv.VMs, v)
	}
	return inv
}

// nonNegative32 maps a count from the host to the wire: negative (never
// meaningful) becomes 0, unknown; a value past uint32 is clamped.
func nonNegative32(n int) uint32 {
	return uint32(min(max(int64(n), 0), math.MaxUint32))
}

// diskName is the file name of a disk path in either separator style.
func diskName(p string) string {
	return path.Base(strings.ReplaceAll(p, `\`, "/"))
}
