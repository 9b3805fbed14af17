//go:build unix

package simhost

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCreateVM_terabyteDisksStaySparse(t *testing.T) {
	d, cfg := testDaemon(t)
	d.cfg.ChecksumOnSwitch, d.cfg.BlockSize = false, DefaultConfig("").BlockSize
	vm := mustVM(t, d, DiskSpec{Size: 2 << 40}, DiskSpec{Size: 1 << 40, Format: FormatVHDXFixed}, DiskSpec{Size: 1 << 40, Format: FormatVHDFixed})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	for i, dk := range vm.Disks {
		last := dk.Size - 4096
		if err := d.WriteDisk(context.Background(), WriteRequest{VMID: vm.ID, Disk: i, Offset: last, Length: 4096, Pattern: 0x5a}); err != nil {
			t.Fatalf("disk %d: write at the last 4 KiB: %v", i, err)
		}
	}
	if _, err := d.SwitchLogs(vm.ID); err != nil {
		t.Fatal(err)
	}
	var used int64
	filepath.Walk(cfg.Dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			used += info.Sys().(*syscall.Stat_t).Blocks * 512
		}
		return nil
	})
	if used > 256<<20 {
		t.Fatalf("4 TiB of disks use %d bytes on the host; they must stay sparse", used)
	}
	got, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(got)
	t.Logf("inventory: %s (host space %d bytes)", b, used)
}
