package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	hubcli "hvmigrate/hub/cli"
	"hvmigrate/hub/ctl"
	"hvmigrate/integration/azurite"
	"hvmigrate/integration/simhost"
	"hvmigrate/provider/cli"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/hubclient"
)

// hubProc is a hub directory with its running hvm-hub.
type hubProc struct {
	t   *testing.T
	dir string
}

// startHub initialises a hub with the emulator as its storage and runs it.
func startHub(t *testing.T, srv *azurite.Server) *hubProc {
	t.Helper()
	h := &hubProc{t: t, dir: filepath.Join(t.TempDir(), "hub")}
	var out bytes.Buffer
	addr, admin := freeAddr(t), freeAddr(t)
	if code := hubcli.Main([]string{"init", "--dir", h.dir, "--listen", addr, "--admin-listen", admin, "--public-address", addr,
		"--heartbeat-interval", "200ms", "--dead-peer-timeout", "2s"}, &out, &out); code != 0 {
		t.Fatalf("hvm-hub init: exit %d: %s", code, out.String())
	}
	caFile, keyFile := filepath.Join(t.TempDir(), "ca.pem"), filepath.Join(t.TempDir(), "key")
	writeFile(t, caFile, srv.CAPEM)
	writeFile(t, keyFile, []byte(srv.Key.Reveal()))
	if code := hubcli.Main([]string{"storage", "set", "--dir", h.dir, "--endpoint", srv.Endpoint, "--account", srv.Account,
		"--key-file", keyFile, "--ca-file", caFile}, &out, &out); code != 0 {
		t.Fatalf("hvm-hub storage set: exit %d: %s", code, out.String())
	}
	startProc(t, "hub", "hub serving", "serve", "--dir", h.dir)
	return h
}

// registerHost creates a project and a key and registers a host with it,
// returning the identity directory and the host id.
func (h *hubProc) registerHost() (string, string) {
	h.t.Helper()
	h.ctl("project", "create", "proj")
	keyFile := filepath.Join(h.t.TempDir(), "key.json")
	h.ctl("key", "create", "--project", "proj", "--valid", "1h", "--out", keyFile)
	idDir := filepath.Join(h.t.TempDir(), "identity")
	id, err := hubclient.Register(context.Background(), keyFile, idDir)
	if err != nil {
		h.t.Fatalf("register: %v", err)
	}
	return idDir, id.HostID
}

// ctl runs hvmctl against the hub and returns its output.
func (h *hubProc) ctl(args ...string) string {
	h.t.Helper()
	var out, errOut bytes.Buffer
	if code := ctl.Main(append([]string{"--config", filepath.Join(h.dir, "hvmctl.json")}, args...), &out, &errOut); code != 0 {
		h.t.Fatalf("hvmctl %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String()
}

// createVM makes a running one-disk, one-NIC VM with some data.
func createVM(t *testing.T, sim *simhosttest.Daemon) simhost.VM {
	t.Helper()
	ctx := context.Background()
	vm, err := sim.Client.CreateVM(ctx, simhost.VMSpec{Name: "hubmode", Generation: 2, CPUs: 2, MemoryBytes: 3 << 30,
		NICs:  []simhost.NIC{{Name: "lan", MACAddress: "00:15:5D:00:00:07", SwitchName: "External"}},
		Disks: []simhost.DiskSpec{{Size: 8 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Client.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	if err := sim.Client.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Offset: 1 << 20, Length: 2 << 20, Pattern: 0x5a}); err != nil {
		t.Fatal(err)
	}
	return vm
}

// startAgent runs an agent that uploads to the emulator.
func startAgent(t *testing.T, srv *azurite.Server) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hvmrun")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca, sock := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "run", "agent.sock")
	writeFile(t, ca, srv.CAPEM)
	startProc(t, "agent", "agent serving", "serve", "--listen", sock, "--state-dir", filepath.Join(dir, "state"),
		"--storage-endpoint", srv.Endpoint, "--storage-ca", ca)
	return sock
}

// runProvider runs `hvm-provider run` in this process; the returned stop
// ends it and requires a clean exit.
func runProvider(t *testing.T, args ...string) (stop func()) {
	t.Helper()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	root := cli.NewRootCommand()
	root.SetArgs(append([]string{"--log-level", "debug", "run"}, args...))
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("provider: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("provider did not stop")
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("provider output:\n%s", out.String())
		}
		if strings.Contains(out.String(), "sig=") {
			t.Error("the provider's log carries a sas signature")
		}
	})
	return stop
}

func decode(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRun_hubMode_flags: hub mode needs its backend and state; an
// identity that was never registered stops the provider with an error.
func TestRun_hubMode_flags(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"no_simhost", []string{"run", "--identity", dir, "--state", filepath.Join(dir, "s.db")}, cli.ExitUsage, "--simhost is required"},
		{"no_state", []string{"run", "--identity", dir, "--simhost", filepath.Join(dir, "sim.sock")}, cli.ExitUsage, "--state is required"},
		{"not_registered", []string{"run", "--identity", filepath.Join(dir, "none"), "--simhost", filepath.Join(dir, "sim.sock"),
			"--state", filepath.Join(dir, "s.db"), "--agent", filepath.Join(dir, "agent.sock")}, cli.ExitError, "identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := cli.Main(tt.args, &out, &out)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantText) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tt.wantCode, tt.wantText, out.String())
			}
		})
	}
}

// TestRun_hubMode_reportsInventory runs hvm-provider run in hub mode
// against a real hub and agent over a simulated host: the host's VM, its
// hardware and its disk reach the hub's inventory.
func TestRun_hubMode_reportsInventory(t *testing.T) {
	srv := azurite.Start(t)
	hub := startHub(t, srv)
	idDir, _ := hub.registerHost()
	sim := simhosttest.Start(t)
	vm := createVM(t, sim)
	agentSock := startAgent(t, srv)
	state := filepath.Join(t.TempDir(), "provider.db")
	runProvider(t, "--identity", idDir, "--simhost", sim.Socket, "--agent", agentSock, "--state", state, "--inventory-every", "200ms")
	type nic struct {
		Name   string `json:"name"`
		Switch string `json:"switch"`
		MAC    string `json:"mac"`
	}
	type listed struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		PowerState  string `json:"power_state"`
		Generation  uint32 `json:"generation"`
		VCPUs       uint32 `json:"vcpus"`
		MemoryBytes uint64 `json:"memory_bytes"`
		NICs        []nic  `json:"nics"`
		Disks       uint32 `json:"disks"`
		TotalBytes  uint64 `json:"total_bytes"`
	}
	var got []listed
	waitUntil(t, "inventory at the hub", 20*time.Second, func() bool {
		decode(t, hub.ctl("vm", "list", "-o", "json"), &got)
		return len(got) == 1
	})
	want := listed{ID: vm.ID, Name: "hubmode", PowerState: "running", Generation: 2, VCPUs: 2, MemoryBytes: 3 << 30,
		NICs: []nic{{Name: "lan", Switch: "External", MAC: "00:15:5D:00:00:07"}}, Disks: 1, TotalBytes: 8 << 20}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("hub lists %+v, want %+v", got[0], want)
	}
}
