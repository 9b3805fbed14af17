package simhost

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/testenv"
)

// qemuCheck runs qemu-img check on path and fails the test on any finding.
func qemuCheck(t *testing.T, qemu, format, path string) {
	t.Helper()
	out, err := exec.Command(qemu, "check", "-f", format, path).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img check -f %s %s: %v\n%s", format, path, err, out)
	}
	if !strings.Contains(string(out), "No errors were found") {
		t.Fatalf("qemu-img check -f %s %s:\n%s", format, path, out)
	}
}

// qemuMatches converts path to raw with qemu-img and compares it with
// what our reader gives for the same file.
func qemuMatches(t *testing.T, qemu, format, path string) {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "qemu.raw")
	if out, err := exec.Command(qemu, "convert", "-f", format, "-O", "raw", path, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert %s: %v\n%s", path, err, out)
	}
	img, err := openImage(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Size() != img.Size() {
		t.Fatalf("%s: qemu-img gives %d bytes, our reader %d", path, st.Size(), img.Size())
	}
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < img.Size(); off += int64(len(a)) {
		if _, err := io.ReadFull(io.NewSectionReader(f, off, int64(len(a))), a); err != nil {
			t.Fatal(err)
		}
		if _, err := readFull(img, b, off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: qemu-img convert and our ReadAt differ in the MiB at %d", path, off)
		}
	}
}

func TestQemu_disksPassCheckAndConvertEqually(t *testing.T) {
	qemu := testenv.LookTool(t, "qemu-img")
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 24 << 20}, DiskSpec{Size: 16 << 20, LogicalSectorSize: 4096},
		DiskSpec{Size: 8 << 20, Format: FormatVHDXFixed}, DiskSpec{Size: 8 << 20, Format: FormatVHDFixed})
	o := newOracle(t, vm)
	rng := rand.New(rand.NewPCG(11, 12))
	o.randomWrites(d, vm, rng, 100, false)
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	o.randomWrites(d, vm, rng, 100, true)
	if err := d.StopVM(vm.ID, StopShutdown); err != nil {
		t.Fatal(err)
	}
	stopped, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dk := range stopped.Disks {
		format := "vhdx"
		switch {
		case dk.Format == FormatVHDFixed:
			format = "vpc"
		case dk.LogicalSectorSize != 512:
			continue // qemu's vhdx driver refuses 4096-byte logical sectors (ENOTSUP)
		default:
			qemuCheck(t, qemu, format, dk.Path)
		}
		qemuMatches(t, qemu, format, dk.Path)
		checked++
	}
	if checked != 3 {
		t.Fatalf("%d disks checked with qemu-img, want 3", checked)
	}
	for i, want := range o.sums() {
		img, err := openImage(stopped.Disks[i].Path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := HashImage(img)
		img.Close()
		if err != nil || got != want {
			t.Fatalf("disk %d: %s (%v), oracle %s", i, got, err, want)
		}
	}
}

func TestQemu_frozenAndMergedFilesPassCheck(t *testing.T) {
	qemu := testenv.LookTool(t, "qemu-img")
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 24 << 20}, DiskSpec{Size: 16 << 20, Format: FormatVHDXFixed})
	o := newOracle(t, vm)
	rng := rand.New(rand.NewPCG(13, 14))
	o.randomWrites(d, vm, rng, 80, false)
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	frozen, err := d.GetFrozenDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	o.randomWrites(d, vm, rng, 80, true)
	for _, f := range frozen {
		qemuCheck(t, qemu, "vhdx", f.Path)
		qemuMatches(t, qemu, "vhdx", f.Path)
	}
	if err := d.DeleteCheckpoint(vm.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.StopVM(vm.ID, StopShutdown); err != nil {
		t.Fatal(err)
	}
	want := o.sums()
	for i, f := range frozen {
		qemuCheck(t, qemu, "vhdx", f.Path)
		qemuMatches(t, qemu, "vhdx", f.Path)
		raw := filepath.Join(t.TempDir(), "merged.raw")
		if out, err := exec.Command(qemu, "convert", "-f", "vhdx", "-O", "raw", f.Path, raw).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		r, err := os.Open(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := hashReader(t, r)
		r.Close()
		if got != want[i] {
			t.Fatalf("disk %d: qemu reads the merged disk as %s, the oracle holds %s", i, got, want[i])
		}
	}
}
