package simhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hvmigrate/shared/hrl"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhdx"
)

// replayTo copies the frozen parent into a raw file, applies the closed
// logs of switches 1..n in order and returns the file's SHA-256.
func replayTo(t *testing.T, frozen FrozenDisk, sectorSize int, logs [][]string, n int) string {
	t.Helper()
	img, err := vhdx.Open(frozen.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	raw, err := os.Create(filepath.Join(t.TempDir(), "replica.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	copyImage(t, img, raw)
	c := hrl.NewCoalescer()
	opts := hrl.DefaultOptions()
	opts.DiskSize, opts.SectorSize = frozen.Size, sectorSize
	for _, sw := range logs[:n] {
		addLogs(t, c, opts, sw...)
	}
	if n > 0 && c.Stats().Entries == 0 {
		t.Fatalf("%d switches logged no write", n)
	}
	if _, err := c.ApplyTo(raw); err != nil {
		t.Fatal(err)
	}
	return hashReader(t, io.NewSectionReader(raw, 0, frozen.Size))
}

// addLogs opens and verifies each log and adds it to c; the logs stay open
// until the test ends.
func addLogs(t *testing.T, c *hrl.Coalescer, opts hrl.Options, paths ...string) {
	t.Helper()
	for _, p := range paths {
		l, err := hrl.Open(p, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		if err := l.Verify(); err != nil {
			t.Fatal(err)
		}
		if err := c.Add(l); err != nil {
			t.Fatal(err)
		}
	}
}

// copyImage writes the data extents of img into dst (sparse elsewhere).
func copyImage(t *testing.T, img vdisk.Image, dst *os.File) {
	t.Helper()
	if err := dst.Truncate(img.Size()); err != nil {
		t.Fatal(err)
	}
	for e, err := range img.Extents() {
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == vdisk.KindData {
			if _, err := io.Copy(io.NewOffsetWriter(dst, e.Offset), io.NewSectionReader(img, e.Offset, e.Length)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestSwitchLogs_replayReproducesSwitchChecksums is property style: for
// several seeds, a workload with heavy overlap runs on several disks while
// the logs are switched; replaying switches 1..N onto the frozen view must
// give the checksum recorded at switch N.
func TestSwitchLogs_replayReproducesSwitchChecksums(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			d, _ := testDaemon(t)
			rng := rand.New(rand.NewPCG(seed, 7))
			var specs []DiskSpec
			for range 1 + rng.IntN(3) {
				specs = append(specs, DiskSpec{Size: int64(8+rng.IntN(24)) << 20, LogicalSectorSize: []int{512, 4096}[rng.IntN(2)]})
			}
			vm := mustVM(t, d, specs...)
			o := newOracle(t, vm)
			o.randomWrites(d, vm, rng, 30, false)
			if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
				t.Fatal(err)
			}
			var logs [][]string
			switches := 3 + rng.IntN(3)
			for s := range switches {
				runBackground(t, d, WorkloadSpec{
					VMID: vm.ID, Sizes: []IOSize{{4 << 10, 50}, {64 << 10, 40}, {1 << 20, 10}},
					TotalBytes: 6 << 20, OverwriteRatio: 0.8, Seed: seed*100 + uint64(s),
				}, func() {
					o.randomWrites(d, vm, rng, 10, true)
				})
				res, err := d.SwitchLogs(vm.ID)
				if err != nil {
					t.Fatal(err)
				}
				if res.Number != uint64(s+1) {
					t.Fatalf("switch number %d, want %d", res.Number, s+1)
				}
				closed := make([]string, len(res.Disks))
				for i, sd := range res.Disks {
					if len(sd.ClosedLogs) != 1 {
						t.Fatalf("disk %d: %d closed logs, want 1", sd.Index, len(sd.ClosedLogs))
					}
					closed[i] = sd.ClosedLogs[0]
				}
				logs = append(logs, closed)
			}
			frozen, err := d.GetFrozenDisks(vm.ID)
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= switches; n++ {
				want, err := d.GetSwitchChecksums(vm.ID, uint64(n))
				if err != nil {
					t.Fatal(err)
				}
				for i, fd := range frozen {
					perDisk := make([][]string, n)
					for k := range n {
						perDisk[k] = []string{logs[k][i]}
					}
					if got := replayTo(t, fd, vm.Disks[i].LogicalSectorSize, perDisk, n); got != want[i].SHA256 {
						t.Errorf("switch %d disk %d: replay gives %s, recorded %s", n, i, got, want[i].SHA256)
					}
				}
			}
		})
	}
}

// runBackground runs a workload while fn runs, and waits for both.
func runBackground(t *testing.T, d *Daemon, spec WorkloadSpec, fn func()) {
	t.Helper()
	var wg sync.WaitGroup
	var werr error
	wg.Go(func() { _, werr = d.RunWorkload(context.Background(), spec, nil) })
	fn()
	wg.Wait()
	if werr != nil {
		t.Fatal(werr)
	}
}

func TestSwitchLogs_duringWorkloadMatchesLiveChecksum(t *testing.T) {
	d, _ := testDaemon(t)
	vm := mustVM(t, d, DiskSpec{Size: 16 << 20}, DiskSpec{Size: 16 << 20})
	if _, err := d.CreateCheckpoint(vm.ID, CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := d.RunWorkload(ctx, WorkloadSpec{VMID: vm.ID, Duration: time.Minute, OverwriteRatio: 0.5, Seed: 9}, nil)
		done <- err
	}()
	var logs [][]string
	for range 4 {
		time.Sleep(50 * time.Millisecond)
		res, err := d.SwitchLogs(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, []string{res.Disks[0].ClosedLogs[0]})
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("workload: %v, want context.Canceled", err)
	}
	frozen, err := d.GetFrozenDisks(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.GetSwitchChecksums(vm.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := replayTo(t, frozen[0], 512, logs, 4); got != want[0].SHA256 {
		t.Fatalf("replay of 4 switches %s, recorded %s", got, want[0].SHA256)
	}
}
