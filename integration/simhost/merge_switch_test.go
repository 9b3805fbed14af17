package simhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hvmigrate/shared/hrl"
	"hvmigrate/shared/vhdx"
)

// TestSwitchLogs_firstSwitchAfterMergeReplaysToItsChecksum follows a newly
// replicated VM while a guest workload runs: checkpoint with tracking, the
// frozen parents copied (the initial copy), the checkpoint merged, then
// the first switch. The copy plus the logs that switch hands out (the
// checkpoint session's and the merged session's) must give the checksum
// recorded at the switch, whatever instant each step falls on.
func TestSwitchLogs_firstSwitchAfterMergeReplaysToItsChecksum(t *testing.T) {
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	// The end-to-end host's layout: 32 MiB blocks, so each disk is one
	// partially present block in the checkpoint's child.
	cfg := DefaultConfig(filepath.Join(t.TempDir(), "vms"))
	cfg.KeepThrough = 100
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	vm := mustVM(t, d, DiskSpec{Size: 24 << 20}, DiskSpec{Size: 16 << 20})
	for i, dk := range vm.Disks {
		if err := d.WriteDisk(context.Background(), WriteRequest{VMID: vm.ID, Disk: i, Offset: dk.Size / 4, Length: dk.Size / 8, Pattern: byte(0x40 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.RunWorkload(ctx, WorkloadSpec{VMID: vm.ID, Sizes: []IOSize{{4 << 10, 3}, {64 << 10, 1}},
			RateBytesPerSec: 4 << 20, Duration: time.Hour, OverwriteRatio: 0.3, Seed: 1}, nil)
		done <- err
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("workload: %v", err)
		}
	}()
	rng := rand.New(rand.NewPCG(5, 9))
	pause := func() { time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond) }
	for round := range rounds {
		if err := d.StopTracking(vm.ID, true); err != nil && !errors.Is(err, ErrTrackingOff) {
			t.Fatal(err)
		}
		if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
			t.Fatal(err)
		}
		pause()
		frozen, err := d.GetFrozenDisks(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		copies := make([]string, len(frozen))
		for i, fd := range frozen {
			copies[i] = copyFrozen(t, fd)
		}
		pause()
		if err := d.DeleteCheckpoint(vm.ID); err != nil {
			t.Fatal(err)
		}
		pause()
		res, err := d.SwitchLogs(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i, sd := range res.Disks {
			if len(sd.ClosedLogs) != 2 {
				t.Fatalf("round %d disk %d: %d closed logs, want the checkpoint's and the merged session's", round, i, len(sd.ClosedLogs))
			}
			got := replayRaw(t, copies[i], frozen[i].Size, sd.ClosedLogs)
			if got != sd.SHA256 {
				t.Errorf("round %d disk %d: frozen copy plus logs %s, checksum at switch %d %s",
					round, i, got, res.Number, sd.SHA256)
			}
			vmDir := filepath.Join(cfg.Dir, vm.ID)
			ck, _ := filepath.Glob(filepath.Join(vmDir, keepDir, "checkpoint-*-disk"+fmt.Sprint(i)+".raw"))
			logs, err := KeptSwitchLogs(vmDir, res.Number, i)
			if err != nil || len(ck) != round+1 || len(logs) != 2 {
				t.Fatalf("round %d disk %d: kept %v and %v (%v)", round, i, ck, logs, err)
			}
			if round == 0 {
				if kept := replayRaw(t, ck[0], frozen[i].Size, logs); kept != sd.SHA256 {
					t.Errorf("disk %d: kept frozen copy and logs replay to %s, checksum %s", i, kept, sd.SHA256)
				}
			}
		}
	}
}

// copyFrozen copies a frozen parent into a raw file and returns its path.
func copyFrozen(t *testing.T, fd FrozenDisk) string {
	t.Helper()
	img, err := vhdx.Open(fd.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("disk%d.raw", fd.Index))
	raw, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	copyImage(t, img, raw)
	return path
}

// replayRaw applies the logs in order onto a copy of the raw file and
// returns the SHA-256 of its first size bytes.
func replayRaw(t *testing.T, rawPath string, size int64, logs []string) string {
	t.Helper()
	b, err := os.ReadFile(rawPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "replay.raw")
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := hrl.NewCoalescer()
	opts := hrl.DefaultOptions()
	opts.DiskSize = size
	addLogs(t, c, opts, logs...)
	if _, err := c.ApplyTo(f); err != nil {
		t.Fatal(err)
	}
	return hashReader(t, io.NewSectionReader(f, 0, size))
}
