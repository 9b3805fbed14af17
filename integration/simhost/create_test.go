package simhost

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCreateVM_recordIsWrittenAndReloaded(t *testing.T) {
	d, cfg := testDaemon(t)
	vm, err := d.CreateVM(VMSpec{Name: "persist", CPUs: 4, MemoryBytes: 4 << 30, NICs: []NIC{{Name: "lan", SwitchName: "External"}},
		Disks: []DiskSpec{{Size: 8 << 20}, {Size: 4 << 20, Format: FormatVHDFixed}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Dir, vm.ID, recordFile)); err != nil {
		t.Fatalf("record of the VM, in a directory named by its id: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	got, err := d2.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "persist" || got.CPUs != 4 || got.MemoryBytes != 4<<30 || len(got.NICs) != 1 || got.NICs[0].MACAddress == "" ||
		len(got.Disks) != 2 || got.Disks[1].Format != FormatVHDFixed || got.Disks[0].Identity.DiskID.String() != got.Disks[0].ID {
		t.Fatalf("reloaded %+v", got)
	}
}
