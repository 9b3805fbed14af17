package stream

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"hvmigrate/hub/internal/state"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

func TestEventFromProto_sourceHashes(t *testing.T) {
	ok := &hubv1.Event{Id: "h1", Kind: &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{
		VmId: "vm1", DiskId: "d1", Cycle: 9, ChunkBytes: 1 << 20, FirstChunk: 4, Sha256: []string{"ab", ""}}}}
	ev, err := eventFromProto(ok)
	if err != nil || ev.SourceHashes == nil || ev.vmID() != "vm1" || ev.Kind() != "source_hashes" ||
		ev.SourceHashes.FirstChunk != 4 || len(ev.SourceHashes.SHA256) != 2 || ev.SourceHashes.Cycle != 9 {
		t.Fatalf("converted %+v, %v", ev, err)
	}
	tooMany := &hubv1.Event{Id: "h2", Kind: &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{
		VmId: "vm1", Sha256: make([]string, maxHashesPerEvent+1)}}}
	if _, err := eventFromProto(tooMany); !errors.Is(err, ErrInvalid) {
		t.Fatalf("%d hashes in one event: err = %v, want ErrInvalid", maxHashesPerEvent+1, err)
	}
}

func TestEventFromProto_inventoryHardware(t *testing.T) {
	vm := func() *hubv1.Vm {
		return &hubv1.Vm{Id: "vm1", Name: "web", PowerState: "running", Generation: 2, Vcpus: 4, MemoryBytes: 8 << 30,
			Nics:  []*hubv1.Nic{{Name: "lan", SwitchName: "External", MacAddress: "00:15:5D:00:00:01"}, {Name: "spare"}},
			Disks: []*hubv1.Disk{{Id: "d0", Name: "os.vhdx", SizeBytes: 1 << 30}}}
	}
	event := func(v *hubv1.Vm) *hubv1.Event {
		return &hubv1.Event{Id: "i1", Kind: &hubv1.Event_Inventory{Inventory: &hubv1.Inventory{Vms: []*hubv1.Vm{v}}}}
	}
	ev, err := eventFromProto(event(vm()))
	if err != nil || !ev.IsInventory || len(ev.Inventory) != 1 {
		t.Fatalf("converted %+v, %v", ev, err)
	}
	got := ev.Inventory[0]
	want := state.VM{ID: "vm1", Name: "web", PowerState: "running", Generation: 2, VCPUs: 4, MemoryBytes: 8 << 30,
		NICs:  []state.NIC{{Name: "lan", SwitchName: "External", MACAddress: "00:15:5D:00:00:01"}, {Name: "spare"}},
		Disks: []state.Disk{{ID: "d0", Name: "os.vhdx", SizeBytes: 1 << 30}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("vm = %+v, want %+v", got, want)
	}
	long := strings.Repeat("x", maxNameLen+1)
	tests := []struct {
		name string
		edit func(v *hubv1.Vm)
	}{
		{"generation 3", func(v *hubv1.Vm) { v.Generation = 3 }},
		{"too many vcpus", func(v *hubv1.Vm) { v.Vcpus = maxVCPUs + 1 }},
		{"too much memory", func(v *hubv1.Vm) { v.MemoryBytes = maxMemoryBytes + 1 }},
		{"too many nics", func(v *hubv1.Vm) { v.Nics = make([]*hubv1.Nic, maxNICs+1) }},
		{"too many disks", func(v *hubv1.Vm) { v.Disks = make([]*hubv1.Disk, maxDisks+1) }},
		{"long vm name", func(v *hubv1.Vm) { v.Name = long }},
		{"long power state", func(v *hubv1.Vm) { v.PowerState = long[:maxShortLen+1] }},
		{"long nic name", func(v *hubv1.Vm) { v.Nics[0].Name = long }},
		{"long switch name", func(v *hubv1.Vm) { v.Nics[1].SwitchName = long }},
		{"long mac", func(v *hubv1.Vm) { v.Nics[0].MacAddress = long[:maxShortLen+1] }},
		{"long disk name", func(v *hubv1.Vm) { v.Disks[0].Name = long }},
		{"long disk id", func(v *hubv1.Vm) { v.Disks[0].Id = long[:maxIDLen+1] }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vm()
			tt.edit(v)
			if _, err := eventFromProto(event(v)); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "vm vm1") {
				t.Fatalf("err = %v, want ErrInvalid naming the vm", err)
			}
		})
	}
	v := vm()
	v.Nics[0].Name, v.Disks[0].Name = long[:maxNameLen], long[:maxNameLen]
	if _, err := eventFromProto(event(v)); err != nil {
		t.Fatalf("names of exactly %d bytes refused: %v", maxNameLen, err)
	}
}
