package cli_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/cli"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/shared/hrl"
	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vhdx"
)

// playVar makes the test binary play hvm-simhost, so the daemon can be
// killed and restarted as a real process.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	if os.Getenv(playVar) == "simhost" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is a child hvm-simhost whose output the test can wait on.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func start(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), playVar+"=simhost", "HVM_LOG_LEVEL=debug")
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("hvm-simhost output:\n%s", p.out.String())
		}
	})
	return p
}

func (p *proc) waitFor(t *testing.T, s string, count int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(p.out.String(), s) < count {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q ×%d in:\n%s", s, count, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("hvm-simhost did not exit:\n%s", p.out.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer

// paths returns a VM directory and a socket path short enough for unix
// sockets.
func paths(t *testing.T) (string, string) {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "simhost")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	return filepath.Join(t.TempDir(), "vms"), filepath.Join(sockDir, "run", "simhost.sock")
}

func TestProcess_SIGKILLMidWorkloadFlagsResync(t *testing.T) {
	dir, sock := paths(t)
	daemon := start(t, "serve", "--dir", dir, "--listen", sock)
	daemon.waitFor(t, "simhost serving", 1)
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	vm, err := c.CreateVM(ctx, simhost.VMSpec{Name: "crash", Disks: []simhost.DiskSpec{{Size: 64 << 20}, {Size: 32 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateCheckpoint(ctx, vm.ID, simhost.CheckpointSpec{StartTracking: true}); err != nil {
		t.Fatal(err)
	}
	before, err := c.GetVM(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.RunWorkload(ctx, simhost.WorkloadSpec{VMID: vm.ID, Duration: time.Hour, OverwriteRatio: 0.3,
			Sizes: []simhost.IOSize{{Bytes: 4096, Weight: 1}, {Bytes: 256 << 10, Weight: 1}}}, nil)
		werr <- err
	}()
	waitForLog(t, before.Disks[0].CurrentLog, 4<<20)
	daemon.cmd.Process.Signal(syscall.SIGKILL)
	daemon.wait(t)
	if err := <-werr; !errors.Is(err, client.ErrUnavailable) {
		t.Logf("workload ended with %v", err)
	}

	for _, dk := range before.Disks {
		checkOpensCleanly(t, dk.Path)
		if _, err := hrl.Open(dk.CurrentLog, hrl.DefaultOptions()); !errors.Is(err, hrl.ErrNotClosed) {
			t.Fatalf("log %s after SIGKILL: %v, want hrl.ErrNotClosed", dk.CurrentLog, err)
		}
	}

	daemon = start(t, "serve", "--dir", dir, "--listen", sock)
	daemon.waitFor(t, "simhost serving", 1)
	daemon.waitFor(t, "vm needs a resync", 1)
	after, err := c.GetVM(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.NeedsResync || !strings.Contains(after.ResyncReason, before.Disks[0].CurrentLog) {
		t.Fatalf("after restart: needs resync %v, reason %q; want the unclosed log %s named", after.NeedsResync, after.ResyncReason, before.Disks[0].CurrentLog)
	}
	if after.Power != simhost.PowerRunning || after.Disks[0].CurrentLog == before.Disks[0].CurrentLog {
		t.Fatalf("after restart: power %s, log %s (was %s)", after.Power, after.Disks[0].CurrentLog, before.Disks[0].CurrentLog)
	}
	if err := c.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Offset: 0, Length: 1 << 20, Pattern: 1}); err != nil {
		t.Fatal(err)
	}
	sw, err := c.SwitchLogs(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if h := mustOpenLog(t, sw.Disks[0].ClosedLogs[0]).Header(); !h.PreviousUniqueID.IsZero() {
		t.Fatalf("first log after the crash chains to %s; a fresh chain has none", h.PreviousUniqueID)
	}
	daemon.cmd.Process.Signal(syscall.SIGTERM)
	if code := daemon.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
}

// waitForLog waits until the log at path holds at least n bytes.
func waitForLog(t *testing.T, path string, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s never reached %d bytes", path, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkOpensCleanly opens a disk left by a killed writer, as a reader
// would, and reads all of it.
func checkOpensCleanly(t *testing.T, path string) {
	t.Helper()
	d, err := vhdx.Open(path)
	if err != nil {
		t.Fatalf("disk %s after SIGKILL: %v", path, err)
	}
	defer d.Close()
	if _, err := simhost.HashImage(d); err != nil {
		t.Fatalf("reading %s after SIGKILL: %v", path, err)
	}
}

func mustOpenLog(t *testing.T, path string) *hrl.Log {
	t.Helper()
	l, err := hrl.Open(path, hrl.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}
