package simhost

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// switchedLogs starts tracking on a two-disk VM, switches twice and
// returns the VM and the closed logs the switches handed out.
func switchedLogs(t *testing.T, d *Daemon) (VM, []string) {
	t.Helper()
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20}, DiskSpec{Size: 8 << 20})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	var closed []string
	for range 2 {
		res, err := d.SwitchLogs(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sd := range res.Disks {
			closed = append(closed, sd.ClosedLogs...)
		}
	}
	return vm, closed
}

func exists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestReleaseLogs_deletesHandedOutLogsIdempotently(t *testing.T) {
	d, _ := testDaemon(t)
	vm, closed := switchedLogs(t, d)
	if len(closed) != 4 {
		t.Fatalf("%d closed logs, want 4", len(closed))
	}
	n, err := d.ReleaseLogs(vm.ID, closed[:2])
	if err != nil || n != 2 {
		t.Fatalf("release: %d deleted, %v; want 2", n, err)
	}
	for i, p := range closed {
		if gone := !exists(t, p); gone != (i < 2) {
			t.Errorf("log %s: gone %v, want %v", p, gone, i < 2)
		}
	}
	if n, err := d.ReleaseLogs(vm.ID, closed); err != nil || n != 2 {
		t.Fatalf("repeat with two more: %d deleted, %v; want 2 and no error", n, err)
	}
	if n, err := d.ReleaseLogs(vm.ID, closed); err != nil || n != 0 {
		t.Fatalf("repeat: %d deleted, %v; want 0 and no error", n, err)
	}
	now, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, dk := range now.Disks {
		if !exists(t, dk.CurrentLog) {
			t.Errorf("open log %s was deleted", dk.CurrentLog)
		}
	}
	if _, err := d.SwitchLogs(vm.ID); err != nil {
		t.Fatalf("switch after release: %v", err)
	}
}

func TestReleaseLogs_refusesWhatIsNotAHandedOutLog(t *testing.T) {
	d, _ := testDaemon(t)
	vm, closed := switchedLogs(t, d)
	_, otherClosed := switchedLogs(t, d)
	now, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	open := now.Disks[0].CurrentLog
	stray := filepath.Join(filepath.Dir(open), "notes.txt")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
	}{
		{"open log", open},
		{"log of another vm", otherClosed[0]},
		{"not a log", stray},
		{"disk file", now.Disks[0].Path},
		{"unclean path", filepath.Dir(closed[0]) + "/../" + filepath.Base(filepath.Dir(closed[0])) + "/" + filepath.Base(closed[0])},
		{"relative path", filepath.Base(closed[0])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := d.ReleaseLogs(vm.ID, []string{closed[0], tt.path})
			if !errors.Is(err, ErrInvalid) || n != 0 {
				t.Fatalf("release: %d deleted, %v; want ErrInvalid", n, err)
			}
			if !exists(t, closed[0]) {
				t.Fatal("a refused request deleted a log")
			}
		})
	}
	for _, p := range []string{open, stray, otherClosed[0], now.Disks[0].Path} {
		if !exists(t, p) {
			t.Errorf("%s was deleted", p)
		}
	}
}

func TestReleaseLogs_refusesLogNotYetHandedOut(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	before, err := d.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A checkpoint starts a new write session: the open log is closed and
	// waits for the next switch.
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{Name: "cp"}); err != nil {
		t.Fatal(err)
	}
	pending := before.Disks[0].CurrentLog
	if _, err := d.ReleaseLogs(vm.ID, []string{pending}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("release of a pending log: %v, want ErrInvalid", err)
	}
	res, err := d.SwitchLogs(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Disks[0].ClosedLogs[0] != pending {
		t.Fatalf("switch handed out %v, want %s first", res.Disks[0].ClosedLogs, pending)
	}
	if n, err := d.ReleaseLogs(vm.ID, res.Disks[0].ClosedLogs); err != nil || n != len(res.Disks[0].ClosedLogs) {
		t.Fatalf("release after the switch: %d, %v", n, err)
	}
}

func TestReleaseLogs_boundsTheRequest(t *testing.T) {
	d, _ := testDaemon(t)
	vm, _ := switchedLogs(t, d)
	if _, err := d.ReleaseLogs(vm.ID, make([]string, maxReleasePaths+1)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("oversized request: %v, want ErrInvalid", err)
	}
	if _, err := d.ReleaseLogs("no-such-vm", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown vm: %v, want ErrNotFound", err)
	}
}
