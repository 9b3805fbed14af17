package simhost

import (
	"context"
	"errors"
	"testing"
)

func TestDaemon_badRequests_wrapTheirClass(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	off, err := d.CreateVM(VMSpec{Name: "off", Disks: []DiskSpec{{Size: 4 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	write := func(id string, disk int, offset int64, n int) error {
		return d.WriteDisk(context.Background(), WriteRequest{VMID: id, Disk: disk, Offset: offset, Data: make([]byte, n)})
	}
	seventeen := make([]DiskSpec, 17)
	for i := range seventeen {
		seventeen[i].Size = 1 << 20
	}
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"unknown vm", func() error { _, err := d.GetVM("6f1c1b5e-0000-4000-8000-000000000000"); return err }, ErrNotFound},
		{"write past the end", func() error { return write(vm.ID, 0, 8<<20-512, 1024) }, ErrOutOfRange},
		{"write unaligned", func() error { return write(vm.ID, 0, 100, 512) }, ErrInvalid},
		{"write to unknown disk", func() error { return write(vm.ID, 3, 0, 512) }, ErrNotFound},
		{"write to stopped vm", func() error { return write(off.ID, 0, 0, 512) }, ErrNotRunning},
		{"workload on stopped vm", func() error {
			_, err := d.RunWorkload(context.Background(), WorkloadSpec{VMID: off.ID, TotalBytes: 1 << 20}, nil)
			return err
		}, ErrNotRunning},
		{"switch with tracking off", func() error { _, err := d.SwitchLogs(vm.ID); return err }, ErrTrackingOff},
		{"stop tracking when off", func() error { return d.StopTracking(vm.ID, false) }, ErrTrackingOff},
		{"frozen disks without checkpoint", func() error { _, err := d.GetFrozenDisks(vm.ID); return err }, ErrNoCheckpoint},
		{"17 disks", func() error { _, err := d.CreateVM(VMSpec{Name: "big", Disks: seventeen}); return err }, ErrInvalid},
		{"no disks", func() error { _, err := d.CreateVM(VMSpec{Name: "none"}); return err }, ErrInvalid},
		{"size not MiB", func() error {
			_, err := d.CreateVM(VMSpec{Name: "odd", Disks: []DiskSpec{{Size: 1<<20 + 512}}})
			return err
		}, ErrInvalid},
		{"vhd with 4k sectors", func() error {
			_, err := d.CreateVM(VMSpec{Name: "odd", Disks: []DiskSpec{{Size: 1 << 20, Format: FormatVHDFixed, LogicalSectorSize: 4096}}})
			return err
		}, ErrInvalid},
		{"delete running vm", func() error { return d.DeleteVM(vm.ID) }, ErrRunning},
		{"switch of unknown switch number", func() error { _, err := d.GetSwitchChecksums(vm.ID, 7); return err }, ErrNotFound},
		{"bad stop mode", func() error { return d.StopVM(vm.ID, "pull-plug") }, ErrInvalid},
		{"bad workload", func() error {
			_, err := d.RunWorkload(context.Background(), WorkloadSpec{VMID: vm.ID}, nil)
			return err
		}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestDaemon_CreateCheckpoint_vhdRefused(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 4 << 20}, DiskSpec{Size: 4 << 20, Format: FormatVHDFixed})
	_, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("got %v, want ErrUnsupported", err)
	}
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatalf("tracking a VM with a fixed VHD: %v", err)
	}
}

func TestParseIOSizes_table(t *testing.T) {
	tests := []struct {
		in      string
		want    []IOSize
		wantErr bool
	}{
		{"4k:50,64k:40,1m:10", []IOSize{{4096, 50}, {65536, 40}, {1 << 20, 10}}, false},
		{"64KiB", []IOSize{{65536, 1}}, false},
		{"4k:0", nil, true},
		{"", nil, true},
		{"x:1", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseIOSizes(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}
