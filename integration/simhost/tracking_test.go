package simhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/hrl"
)

func openLog(t *testing.T, path string) *hrl.Log {
	t.Helper()
	l, err := hrl.Open(path, hrl.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestTracking_logsChainAndCarryDataWriteGUID(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20}, DiskSpec{Size: 8 << 20, Format: FormatVHDXFixed})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.StartTracking(vm.ID); !errors.Is(err, ErrTrackingOn) {
		t.Fatalf("second start: %v, want ErrTrackingOn", err)
	}
	o := newOracle(t, vm)
	var prev []hrl.GUID
	for n := uint64(1); n <= 3; n++ {
		o.write(d, vm.ID, 0, make([]byte, 4096), int64(n)*4096)
		o.write(d, vm.ID, 1, make([]byte, 512), 0)
		now, err := d.GetVM(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.SwitchLogs(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.Number != n {
			t.Fatalf("switch number %d, want %d", res.Number, n)
		}
		for i, sd := range res.Disks {
			if sd.ClosedLogs[0] != now.Disks[i].CurrentLog {
				t.Errorf("switch %d disk %d closed %s, want the log open before it %s", n, i, sd.ClosedLogs[0], now.Disks[i].CurrentLog)
			}
			h := openLog(t, sd.ClosedLogs[0]).Header()
			if want := hrl.GUIDFromCanonical(now.Disks[i].Identity.DataWriteGUID); h.Vhd2DataWriteGUID != want || want.IsZero() {
				t.Errorf("switch %d disk %d: Vhd2DataWriteGuid %s, want the disk's %s", n, i, h.Vhd2DataWriteGUID, want)
			}
			if n > 1 && h.PreviousUniqueID != prev[i] {
				t.Errorf("switch %d disk %d: PreviousUniqueId %s, want %s", n, i, h.PreviousUniqueID, prev[i])
			}
			if n == 1 && !h.PreviousUniqueID.IsZero() {
				t.Errorf("first log of a chain has PreviousUniqueId %s", h.PreviousUniqueID)
			}
			if len(prev) <= i {
				prev = append(prev, hrl.GUID{})
			}
			prev[i] = h.UniqueID
		}
	}
}

func TestTracking_finalSwitchAfterGracefulShutdown(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := d.RunWorkload(context.Background(), WorkloadSpec{VMID: vm.ID, TotalBytes: 1 << 40, Seed: 5}, nil)
		done <- err
	}()
	waitLogged(t, d, vm.ID)
	if err := d.StopVM(vm.ID, StopShutdown); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrNotRunning) {
		t.Fatalf("workload ended with %v, want ErrNotRunning", err)
	}
	res, err := d.SwitchLogs(vm.ID)
	if err != nil {
		t.Fatalf("final switch after shutdown: %v", err)
	}
	frozen, err := d.GetFrozenDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := replayTo(t, frozen[0], 512, [][]string{res.Disks[0].ClosedLogs}, 1); got != res.Disks[0].SHA256 {
		t.Fatalf("replay %s, switch checksum %s", got, res.Disks[0].SHA256)
	}
	now, err := d.ChecksumDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if now[0].SHA256 != res.Disks[0].SHA256 {
		t.Fatalf("stopped disk %s changed after the final switch %s", now[0].SHA256, res.Disks[0].SHA256)
	}
}

// waitLogged waits until the VM's first disk has logged something.
func waitLogged(t *testing.T, d *Daemon, id string) {
	t.Helper()
	for range 1000 {
		vm, err := d.GetVM(id)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(vm.Disks[0].CurrentLog); err == nil && st.Size() > 2<<20 {
			return
		}
		sleepBriefly()
	}
	t.Fatal("nothing logged")
}

func TestTracking_gracefulDaemonRestartKeepsTheChain(t *testing.T) {
	d, cfg := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	o := newOracle(t, vm)
	o.write(d, vm.ID, 0, make([]byte, 8192), 0)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	after, err := d2.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.NeedsResync || after.Power != PowerRunning {
		t.Fatalf("after a graceful restart: needs resync %v (%s), power %s", after.NeedsResync, after.ResyncReason, after.Power)
	}
	o.write(d2, vm.ID, 0, []byte(strings.Repeat("x", 512)), 512)
	res, err := d2.SwitchLogs(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Disks[0].ClosedLogs); n != 2 {
		t.Fatalf("%d closed logs, want the one closed at daemon stop and the one since", n)
	}
	frozen, _ := d2.GetFrozenDisks(vm.ID)
	if got := replayTo(t, frozen[0], 512, [][]string{res.Disks[0].ClosedLogs}, 1); got != o.sums()[0] || got != res.Disks[0].SHA256 {
		t.Fatalf("replay %s, switch %s, oracle %s", got, res.Disks[0].SHA256, o.sums()[0])
	}
}

func TestTracking_unclosedLogAfterCrashFlagsResync(t *testing.T) {
	d, cfg := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20}, DiskSpec{Size: 8 << 20})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteDisk(context.Background(), WriteRequest{VMID: vm.ID, Offset: 0, Length: 1 << 20, Pattern: 7}); err != nil {
		t.Fatal(err)
	}
	before, _ := d.GetVM(vm.ID)
	// The first daemon is abandoned without Close: its logs stay open, as
	// after a crash.
	d2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	after, err := d2.GetVM(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.NeedsResync || !strings.Contains(after.ResyncReason, before.Disks[0].CurrentLog) {
		t.Fatalf("needs resync %v, reason %q; want the flag and %s named", after.NeedsResync, after.ResyncReason, before.Disks[0].CurrentLog)
	}
	if _, err := hrl.Open(before.Disks[0].CurrentLog, hrl.DefaultOptions()); !errors.Is(err, hrl.ErrNotClosed) {
		t.Fatalf("reading the crashed log: %v, want hrl.ErrNotClosed", err)
	}
	if after.Disks[0].CurrentLog == before.Disks[0].CurrentLog || after.Disks[0].CurrentLog == "" {
		t.Fatalf("no fresh log after the crash: %q", after.Disks[0].CurrentLog)
	}
	res, err := d2.SwitchLogs(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h := openLog(t, res.Disks[0].ClosedLogs[0]).Header(); !h.PreviousUniqueID.IsZero() || len(res.Disks[0].ClosedLogs) != 1 {
		t.Fatalf("after a crash the chain must restart: closed %v, previous id %s", res.Disks[0].ClosedLogs, h.PreviousUniqueID)
	}
	if err := d2.ClearResync(vm.ID); err != nil {
		t.Fatal(err)
	}
	if cleared, _ := d2.GetVM(vm.ID); cleared.NeedsResync {
		t.Fatal("ClearResync left the flag up")
	}
}

func TestTracking_StopTracking_removesLogs(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	if _, err := d.StartTracking(vm.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SwitchLogs(vm.ID); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(vm.Disks[0].BasePath)
	if logs, _ := filepath.Glob(filepath.Join(dir, "*.hrl")); len(logs) != 2 {
		t.Fatalf("%d logs before stop, want 2", len(logs))
	}
	if err := d.StopTracking(vm.ID, true); err != nil {
		t.Fatal(err)
	}
	if logs, _ := filepath.Glob(filepath.Join(dir, "*.hrl")); len(logs) != 0 {
		t.Fatalf("logs left after StopTracking(remove): %v", logs)
	}
	if _, err := d.SwitchLogs(vm.ID); !errors.Is(err, ErrTrackingOff) {
		t.Fatalf("switch after stop: %v", err)
	}
}

func TestTracking_newWriteSessionRollsTheLog(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 8 << 20})
	o := newOracle(t, vm)
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	frozen, _ := d.GetFrozenDisks(vm.ID)
	// Keep the frozen view: the merge below writes into that file.
	frozen[0].Path = copyFile(t, frozen[0].Path)
	var guids []hrl.GUID
	session := func(off int64) {
		o.write(d, vm.ID, 0, []byte(strings.Repeat("s", 4096)), off)
		now, _ := d.GetVM(vm.ID)
		guids = append(guids, hrl.GUIDFromCanonical(now.Disks[0].Identity.DataWriteGUID))
	}
	session(0)
	if err := d.DeleteCheckpoint(vm.ID); err != nil {
		t.Fatal(err)
	}
	session(4096)
	if err := d.StopVM(vm.ID, StopShutdown); err != nil {
		t.Fatal(err)
	}
	if err := d.StartVM(vm.ID); err != nil {
		t.Fatal(err)
	}
	session(2048)
	res, err := d.SwitchLogs(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	logs := res.Disks[0].ClosedLogs
	if len(logs) != 3 {
		t.Fatalf("%d closed logs, want one per write session (checkpoint child, merged parent, restarted VM)", len(logs))
	}
	for i, p := range logs {
		if h := openLog(t, p).Header(); h.Vhd2DataWriteGUID != guids[i] {
			t.Errorf("log %d: Vhd2DataWriteGuid %s, want the session's %s", i, h.Vhd2DataWriteGUID, guids[i])
		}
	}
	if got := replayTo(t, frozen[0], 512, [][]string{logs}, 1); got != res.Disks[0].SHA256 || got != o.sums()[0] {
		t.Fatalf("replay %s, switch %s, oracle %s", got, res.Disks[0].SHA256, o.sums()[0])
	}
}

// copyFile copies path into the test's temporary directory.
func copyFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
