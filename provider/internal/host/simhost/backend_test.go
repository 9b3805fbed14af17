package simhost_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/host"
	backend "hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
)

func setup(t *testing.T) (*simhosttest.Daemon, *backend.Backend) {
	t.Helper()
	d := simhosttest.Start(t)
	b, err := backend.Dial(d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return d, b
}

func TestBackend_VM_mapsInventory(t *testing.T) {
	d, b := setup(t)
	ctx := context.Background()
	created, err := d.Client.CreateVM(ctx, simhost.VMSpec{Name: "web", Generation: 2, CPUs: 2, MemoryBytes: 1 << 30,
		NICs:  []simhost.NIC{{Name: "lan", MACAddress: "00:15:5d:00:00:01", SwitchName: "External"}},
		Disks: []simhost.DiskSpec{{Size: 8 << 20}, {Size: 4 << 20, Format: simhost.FormatVHDFixed}, {Size: 4 << 20, LogicalSectorSize: 4096}}})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := b.VM(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if vm.Name != "web" || vm.Generation != 2 || vm.CPUs != 2 || vm.MemoryBytes != 1<<30 || vm.Power != host.PowerOff ||
		len(vm.NICs) != 1 || vm.NICs[0].SwitchName != "External" || vm.HasCheckpoints || vm.Tracking {
		t.Fatalf("vm %+v", vm)
	}
	want := []host.Disk{
		{ID: created.Disks[0].ID, Path: created.Disks[0].Path, Format: "vhdx", VirtualSize: 8 << 20, LogicalSectorSize: 512},
		{ID: created.Disks[1].ID, Path: created.Disks[1].Path, Format: "vhd", VirtualSize: 4 << 20, LogicalSectorSize: 512},
		{ID: created.Disks[2].ID, Path: created.Disks[2].Path, Format: "vhdx", VirtualSize: 4 << 20, LogicalSectorSize: 4096},
	}
	for i, w := range want {
		got := vm.Disks[i]
		if got.ID != w.ID || got.Path != w.Path || got.Format != w.Format || got.VirtualSize != w.VirtualSize || got.LogicalSectorSize != w.LogicalSectorSize {
			t.Errorf("disk %d: %+v, want %+v", i, got, w)
		}
		if (got.Format == "vhdx") != (got.DataWriteGUID != "") {
			t.Errorf("disk %d: data write guid %q for %s", i, got.DataWriteGUID, got.Format)
		}
	}
	all, err := b.Inventory(ctx)
	if err != nil || len(all) != 1 || all[0].ID != created.ID {
		t.Fatalf("inventory %v %v", all, err)
	}
	if _, err := b.VM(ctx, "no-such-vm"); !errors.Is(err, host.ErrNotFound) {
		t.Fatalf("unknown vm: %v", err)
	}
}

func TestBackend_lifecycle_checkpointTrackingSwitch(t *testing.T) {
	d, b := setup(t)
	ctx := context.Background()
	vm, err := d.Client.CreateVM(ctx, simhost.VMSpec{Name: "db", Disks: []simhost.DiskSpec{{Size: 4 << 20}, {Size: 4 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Client.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	cp, err := b.CreateCheckpoint(ctx, vm.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, dk := range vm.Disks {
		if _, err := os.Stat(cp.Frozen[dk.ID]); err != nil {
			t.Errorf("frozen file of disk %s: %v", dk.ID, err)
		}
	}
	got, _ := b.VM(ctx, vm.ID)
	if !got.Tracking || got.HasCheckpoints {
		t.Fatalf("after checkpoint: tracking %v, foreign checkpoints %v", got.Tracking, got.HasCheckpoints)
	}
	if err := d.Client.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Disk: 1, Offset: 4096, Length: 8192, Pattern: 7}); err != nil {
		t.Fatal(err)
	}
	sw, err := b.SwitchLogs(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Number != 1 || len(sw.Logs) != 2 || len(sw.Logs[vm.Disks[1].ID]) != 1 || sw.ResyncNeeded {
		t.Fatalf("switch %+v", sw)
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"second checkpoint", func() error { _, err := b.CreateCheckpoint(ctx, vm.ID, false); return err }, host.ErrCheckpointExists},
		{"delete checkpoint", func() error { return b.DeleteCheckpoint(ctx, vm.ID) }, nil},
		{"delete again", func() error { return b.DeleteCheckpoint(ctx, vm.ID) }, host.ErrNoCheckpoint},
		{"stop tracking", func() error { return b.StopTracking(ctx, vm.ID, true) }, nil},
		{"switch with tracking off", func() error { _, err := b.SwitchLogs(ctx, vm.ID); return err }, host.ErrTrackingOff},
		{"start tracking", func() error { return b.StartTracking(ctx, vm.ID) }, nil},
		{"acknowledge resync", func() error { return b.AcknowledgeResync(ctx, vm.ID) }, nil},
		{"shut down", func() error { return b.Shutdown(ctx, vm.ID, false) }, nil},
		{"shut down an off vm", func() error { return b.Shutdown(ctx, vm.ID, true) }, nil},
		{"switch unknown vm", func() error { _, err := b.SwitchLogs(ctx, "nope"); return err }, host.ErrNotFound},
	}
	for _, s := range steps {
		if err := s.do(); !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", s.name, err, s.want)
		}
	}
	if got, _ := b.VM(ctx, vm.ID); got.Power != host.PowerOff {
		t.Errorf("power %s after shutdown", got.Power)
	}
}

func TestBackend_CreateCheckpoint_vhdUnsupportedAndForeignCheckpoint(t *testing.T) {
	d, b := setup(t)
	ctx := context.Background()
	vhd, err := d.Client.CreateVM(ctx, simhost.VMSpec{Name: "old", Disks: []simhost.DiskSpec{{Size: 4 << 20, Format: simhost.FormatVHDFixed}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateCheckpoint(ctx, vhd.ID, true); !errors.Is(err, host.ErrUnsupported) {
		t.Fatalf("checkpoint of a VHD: %v", err)
	}
	other, err := d.Client.CreateVM(ctx, simhost.VMSpec{Name: "snap", Disks: []simhost.DiskSpec{{Size: 4 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client.CreateCheckpoint(ctx, other.ID, simhost.CheckpointSpec{Name: "before patching"}); err != nil {
		t.Fatal(err)
	}
	if vm, _ := b.VM(ctx, other.ID); !vm.HasCheckpoints {
		t.Fatal("a checkpoint the provider did not make is not reported")
	}
}

func TestBackend_unreachableHost_isUnavailable(t *testing.T) {
	d, b := setup(t)
	d.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := b.Inventory(ctx); !errors.Is(err, host.ErrUnavailable) {
		t.Fatalf("inventory of a stopped daemon: %v", err)
	}
}
