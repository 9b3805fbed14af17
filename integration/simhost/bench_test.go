package simhost

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// BenchmarkWrite64KiBTracked measures guest writes of 64 KiB at random
// offsets of a 4 GiB dynamic disk with change tracking on (logs synced
// as blocks seal), unthrottled. "base" writes the base disk, "checkpoint"
// an AVHDX child (every write to a new region changes its sector bitmap).
func BenchmarkWrite64KiBTracked(b *testing.B) {
	for _, ckpt := range []bool{false, true} {
		name := map[bool]string{false: "base", true: "checkpoint"}[ckpt]
		b.Run(name, func(b *testing.B) {
			d, vm := benchVM(b, ckpt)
			rng := rand.New(rand.NewPCG(1, 1))
			p := make([]byte, 64<<10)
			b.SetBytes(int64(len(p)))
			b.ResetTimer()
			for b.Loop() {
				off := rng.Int64N(vm.Disks[0].Size/int64(len(p))) * int64(len(p))
				if err := d.WriteDisk(context.Background(), WriteRequest{VMID: vm.ID, Offset: off, Data: p}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchVM makes a running VM with one 4 GiB disk and tracking on.
func benchVM(b *testing.B, ckpt bool) (*Daemon, VM) {
	b.Helper()
	cfg := DefaultConfig(filepath.Join(b.TempDir(), "vms"))
	cfg.Logger = hclog.NewNullLogger()
	d, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	vm, err := d.CreateVM(VMSpec{Name: "bench", Disks: []DiskSpec{{Size: 4 << 30}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.StartVM(vm.ID); err != nil {
		b.Fatal(err)
	}
	if ckpt {
		_, err = d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true})
	} else {
		_, err = d.StartTracking(vm.ID)
	}
	if err != nil {
		b.Fatal(err)
	}
	return d, vm
}
