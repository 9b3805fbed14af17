package simhost

import (
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"hvmigrate/shared/vhdx"
)

func TestCheckpoint_frozenLiveAndMergedViews(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 64 << 20}, DiskSpec{Size: 32 << 20, LogicalSectorSize: 4096}, DiskSpec{Size: 16 << 20, Format: FormatVHDXFixed})
	o := newOracle(t, vm)
	rng := rand.New(rand.NewPCG(1, 2))
	o.randomWrites(d, vm, rng, 200, false)
	atCheckpoint := o.sums()

	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{}); err != nil {
		t.Fatal(err)
	}
	o.randomWrites(d, vm, rng, 200, true)

	frozen, err := d.GetFrozenDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, fd := range frozen {
		st, err := os.Stat(fd.Path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != frozenMode {
			t.Errorf("disk %d: frozen parent mode %v, want %v", i, st.Mode().Perm(), os.FileMode(frozenMode))
		}
		img, err := vhdx.Open(fd.Path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := HashImage(img)
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got != atCheckpoint[i] {
			t.Errorf("disk %d: frozen view %s, want the disk at checkpoint time %s", i, got, atCheckpoint[i])
		}
	}
	live, err := d.ChecksumDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := o.sums(); !equalSums(sumsOf(live), want) {
		t.Fatalf("live view %v, want %v", sumsOf(live), want)
	}

	if err := d.DeleteCheckpoint(vm.ID); err != nil {
		t.Fatal(err)
	}
	after, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, dk := range after.Disks {
		if dk.Path != dk.BasePath {
			t.Errorf("disk %d: top %s after merge, want the base %s", i, dk.Path, dk.BasePath)
		}
		if _, err := os.Stat(frozen[i].Path); err != nil {
			t.Errorf("disk %d: base file after merge: %v", i, err)
		}
	}
	merged, err := d.ChecksumDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := o.sums(); !equalSums(sumsOf(merged), want) {
		t.Fatalf("after merge %v, want the live view %v", sumsOf(merged), want)
	}
	o.randomWrites(d, vm, rng, 50, false)
	if err := d.StopVM(vm.ID, StopShutdown); err != nil {
		t.Fatal(err)
	}
	final, err := d.ChecksumDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := o.sums(); !equalSums(sumsOf(final), want) {
		t.Fatalf("after merge, writes and stop %v, want %v", sumsOf(final), want)
	}
}

func TestCheckpoint_Create_secondIsRefused(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{}); err != nil {
		t.Fatal(err)
	}
	_, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{})
	if !errors.Is(err, ErrCheckpointExists) {
		t.Fatalf("second checkpoint: %v, want ErrCheckpointExists", err)
	}
	if err := d.DeleteCheckpoint(vm.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteCheckpoint(vm.ID); !errors.Is(err, ErrNoCheckpoint) {
		t.Fatalf("delete without checkpoint: %v, want ErrNoCheckpoint", err)
	}
}

func TestCheckpoint_Create_whileOffThenStart(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	o := newOracle(t, vm)
	o.randomWrites(d, vm, rand.New(rand.NewPCG(3, 3)), 20, false)
	if err := d.StopVM(vm.ID, StopTurnOff); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{}); err != nil {
		t.Fatal(err)
	}
	if err := d.StartVM(vm.ID); err != nil {
		t.Fatal(err)
	}
	o.randomWrites(d, vm, rand.New(rand.NewPCG(4, 4)), 20, false)
	if err := d.DeleteCheckpoint(vm.ID); err != nil {
		t.Fatal(err)
	}
	got, err := d.ChecksumDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := o.sums(); !equalSums(sumsOf(got), want) {
		t.Fatalf("got %v, want %v", sumsOf(got), want)
	}
}
