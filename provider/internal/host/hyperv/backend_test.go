package hyperv

import (
	"context"
	"testing"

	"hvmigrate/provider/internal/host"
)

var _ host.Backend = (*Backend)(nil)

func TestBackend_VM_mapping(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`, `D:\data\b.vhdx`)
	b := newTestBackend(t, f)
	vm, err := b.VM(context.Background(), "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if vm.Generation != 2 || vm.CPUs != 2 || vm.MemoryBytes != 4096<<20 || vm.Power != host.PowerRunning {
		t.Errorf("vm = %+v", vm)
	}
	if len(vm.NICs) != 1 || vm.NICs[0].MACAddress != "00:15:5D:0A:0B:0C" || vm.NICs[0].SwitchName != "external" {
		t.Errorf("nics = %+v", vm.NICs)
	}
	if len(vm.Disks) != 2 {
		t.Fatalf("disks = %+v", vm.Disks)
	}
	d := vm.Disks[1]
	if d.ID != "aaaaaaaa-0000-0000-0000-000000000002" || d.Path != `D:\data\b.vhdx` || d.Format != "vhdx" ||
		d.VirtualSize != 2<<30 || d.LogicalSectorSize != 512 || d.DataWriteGUID == "" {
		t.Errorf("disk = %+v", d)
	}
	if vm.HasCheckpoints || vm.Tracking {
		t.Errorf("checkpoints/tracking = %v/%v, want false/false", vm.HasCheckpoints, vm.Tracking)
	}
}

func TestBackend_VM_diskIDSurvivesCheckpoint(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`)
	b := newTestBackend(t, f)
	ctx := context.Background()
	before, err := b.VM(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateCheckpoint(ctx, "vm1", false); err != nil {
		t.Fatal(err)
	}
	after, err := b.VM(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if after.Disks[0].Path == before.Disks[0].Path {
		t.Fatalf("path did not move to the differencing file: %s", after.Disks[0].Path)
	}
	if after.Disks[0].ID != before.Disks[0].ID {
		t.Errorf("id changed across checkpoint: %s -> %s", before.Disks[0].ID, after.Disks[0].ID)
	}
	if after.HasCheckpoints {
		t.Error("our own checkpoint reported as foreign")
	}
}

func TestBackend_VM_conditions(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fakeHost)
		id      string
		wantErr error
	}{
		{"not found", func(f *fakeHost) {}, "nope", host.ErrNotFound},
		{"vhd set unsupported", func(f *fakeHost) {
			f.addVM("vm1", `C:\vms\a.vhds`)
			r := f.vhds[samePathKey(`C:\vms\a.vhds`)]
			r.Format = formatVHDSet
			f.vhds[samePathKey(`C:\vms\a.vhds`)] = r
		}, "vm1", host.ErrUnsupported},
		{"missing disk file", func(f *fakeHost) {
			f.addVM("vm1", `C:\vms\a.vhdx`)
			delete(f.vhds, samePathKey(`C:\vms\a.vhdx`))
		}, "vm1", host.ErrNotFound},
		{"parent loop", func(f *fakeHost) {
			f.addVM("vm1", `C:\vms\a.vhdx`)
			r := f.vhds[samePathKey(`C:\vms\a.vhdx`)]
			r.ParentPath = `c:\VMS\A.vhdx`
			f.vhds[samePathKey(`C:\vms\a.vhdx`)] = r
		}, "vm1", host.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			tt.setup(f)
			_, err := newTestBackend(t, f).VM(context.Background(), tt.id)
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestBackend_VM_lockedVHDXStillDescribed(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`, `C:\vms\b.vhdx`)
	f.locked[samePathKey(`C:\vms\b.vhdx`)] = true
	vm, err := newTestBackend(t, f).VM(context.Background(), "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if vm.Disks[0].DataWriteGUID == "" || vm.Disks[1].DataWriteGUID != "" {
		t.Errorf("data write guids = %q, %q; want set, empty", vm.Disks[0].DataWriteGUID, vm.Disks[1].DataWriteGUID)
	}
}

func TestBackend_Inventory_skipsBrokenVM(t *testing.T) {
	f := newFakeHost()
	f.addVM("good", `C:\vms\good.vhdx`)
	f.addVM("bad", `C:\vms\bad.vhdx`)
	delete(f.vhds, samePathKey(`C:\vms\bad.vhdx`))
	f.vms["off"] = &vmRecord{ID: "off", Name: "no disks", EnabledState: stateDisabled}
	vms, err := newTestBackend(t, f).Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]host.PowerState{}
	for _, vm := range vms {
		got[vm.ID] = vm.Power
	}
	if len(got) != 2 || got["good"] != host.PowerRunning || got["off"] != host.PowerOff {
		t.Errorf("inventory = %v, want good (running) and off (off)", got)
	}
}

func TestBackend_Inventory_hostDown(t *testing.T) {
	f := newFakeHost()
	for range 4 {
		f.on("queryVMs", outcome{err: errCOMBusy})
	}
	_, err := newTestBackend(t, f).Inventory(context.Background())
	checkErr(t, err, host.ErrUnavailable)
}

func TestMapping_helpers(t *testing.T) {
	b := newTestBackend(t, newFakeHost())
	dir, stem := b.logDir(`E:\Hyper-V\Disks\web01.data.vhdx`)
	if dir != `E:\Hyper-V\Disks\Hyper-V Replica` || stem != "web01.data" {
		t.Errorf("logDir = %q, %q", dir, stem)
	}
	if g := canonicalGUID(" {ABCDEF01-2345-6789-ABCD-EF0123456789} "); g != "abcdef01-2345-6789-abcd-ef0123456789" {
		t.Errorf("canonicalGUID = %q", g)
	}
	if m := formatMAC("00-15-5d-01-02-03"); m != "00:15:5D:01:02:03" {
		t.Errorf("formatMAC = %q", m)
	}
	for st, want := range map[uint16]host.PowerState{2: host.PowerRunning, 3: host.PowerOff, 32769: host.PowerOther} {
		if got := power(st); got != want {
			t.Errorf("power(%d) = %s, want %s", st, got, want)
		}
	}
}
