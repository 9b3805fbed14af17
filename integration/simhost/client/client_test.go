package client_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/integration/simhost/server"
	"hvmigrate/shared/ipc"
)

// serve runs a daemon behind a gRPC server on a private socket and
// returns a client for it.
func serve(t *testing.T) *client.Client {
	t.Helper()
	cfg := simhost.DefaultConfig(filepath.Join(t.TempDir(), "vms"))
	cfg.SyncLogs, cfg.BlockSize = false, 1<<20
	d, err := simhost.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sockDir, err := os.MkdirTemp("", "simhost")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "run", "simhost.sock")
	lis, err := ipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	g := server.NewGRPCServer(server.New(d))
	go g.Serve(lis)
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		g.Stop()
		d.Close()
	})
	return c
}

func TestClient_errorsRoundTripToTheSameClasses(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	vm, err := c.CreateVM(ctx, simhost.VMSpec{Name: "errs", Disks: []simhost.DiskSpec{{Size: 4 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	seventeen := make([]simhost.DiskSpec, 17)
	for i := range seventeen {
		seventeen[i].Size = 1 << 20
	}
	write := func(off int64, n int) error {
		return c.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Offset: off, Data: make([]byte, n)})
	}
	steps := []struct {
		name string
		do   func() error
		want error
	}{
		{"unknown vm", func() error { _, err := c.GetVM(ctx, "no-such-vm"); return err }, simhost.ErrNotFound},
		{"write to stopped vm", func() error { return write(0, 512) }, simhost.ErrNotRunning},
		{"start", func() error { return c.StartVM(ctx, vm.ID) }, nil},
		{"write past the end", func() error { return write(4<<20, 512) }, simhost.ErrOutOfRange},
		{"unaligned write", func() error { return write(1, 512) }, simhost.ErrInvalid},
		{"switch with tracking off", func() error { _, err := c.SwitchLogs(ctx, vm.ID); return err }, simhost.ErrTrackingOff},
		{"17 disks", func() error { _, err := c.CreateVM(ctx, simhost.VMSpec{Name: "big", Disks: seventeen}); return err }, simhost.ErrInvalid},
		{"checkpoint", func() error { _, err := c.CreateCheckpoint(ctx, vm.ID, simhost.CheckpointSpec{}); return err }, nil},
		{"second checkpoint", func() error { _, err := c.CreateCheckpoint(ctx, vm.ID, simhost.CheckpointSpec{}); return err }, simhost.ErrCheckpointExists},
		{"delete running vm", func() error { return c.DeleteVM(ctx, vm.ID) }, simhost.ErrRunning},
		{"start tracking", func() error { _, err := c.StartTracking(ctx, vm.ID); return err }, nil},
		{"start tracking twice", func() error { _, err := c.StartTracking(ctx, vm.ID); return err }, simhost.ErrTrackingOn},
		{"unknown switch", func() error { _, err := c.GetSwitchChecksums(ctx, vm.ID, 3); return err }, simhost.ErrNotFound},
		{"delete checkpoint", func() error { return c.DeleteCheckpoint(ctx, vm.ID) }, nil},
		{"frozen without checkpoint", func() error { _, err := c.GetFrozenDisks(ctx, vm.ID); return err }, simhost.ErrNoCheckpoint},
	}
	for _, s := range steps {
		err := s.do()
		if s.want == nil {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		if !errors.Is(err, s.want) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.want)
		}
		for _, other := range []error{simhost.ErrNotFound, simhost.ErrInvalid, simhost.ErrNotRunning, simhost.ErrCheckpointExists} {
			if other != s.want && errors.Is(err, other) {
				t.Fatalf("%s: %v also matches %v", s.name, err, other)
			}
		}
	}
}

func TestClient_Dial_noDaemonIsUnavailable(t *testing.T) {
	c, err := client.Dial(filepath.Join(t.TempDir(), "none.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.ListVMs(ctx); !errors.Is(err, client.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
}

func TestClient_replicationCycleEndToEnd(t *testing.T) {
	c := serve(t)
	ctx := context.Background()
	vm, err := c.CreateVM(ctx, simhost.VMSpec{Name: "e2e", Disks: []simhost.DiskSpec{{Size: 8 << 20}, {Size: 8 << 20, LogicalSectorSize: 4096}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Disk: 1, Offset: 4096, Length: 1 << 20, Pattern: 0xab}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCheckpoint(ctx, vm.ID, simhost.CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	var reports int
	p, err := c.RunWorkload(ctx, simhost.WorkloadSpec{VMID: vm.ID, TotalBytes: 4 << 20, OverwriteRatio: 0.5, Seed: 3,
		Sizes: []simhost.IOSize{{Bytes: 4096, Weight: 1}, {Bytes: 64 << 10, Weight: 1}}}, func(simhost.WorkloadProgress) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	if !p.Done || p.Bytes < 4<<20 || reports == 0 {
		t.Fatalf("final progress %+v after %d reports", p, reports)
	}
	sw, err := c.SwitchLogs(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	now, err := c.ChecksumDisks(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.GetSwitchChecksums(ctx, vm.ID, sw.Number)
	if err != nil {
		t.Fatal(err)
	}
	for i := range now {
		if now[i].SHA256 != rec[i].SHA256 || rec[i].SHA256 != sw.Disks[i].SHA256 || len(sw.Disks[i].ClosedLogs) != 1 {
			t.Fatalf("disk %d: now %s, recorded %s, switch %+v", i, now[i].SHA256, rec[i].SHA256, sw.Disks[i])
		}
	}
	got, err := c.GetVM(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Checkpoint == nil || !got.Tracking.Enabled || got.Tracking.LastSwitch != 1 || got.Disks[1].LogicalSectorSize != 4096 ||
		got.Disks[0].Identity.DataWriteGUID.IsZero() || got.Disks[0].CurrentLog != sw.Disks[0].NewLog {
		t.Fatalf("inventory after a cycle: %+v", got)
	}
}
