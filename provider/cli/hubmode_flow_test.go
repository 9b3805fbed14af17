package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/google/uuid"

	"hvmigrate/integration/azurite"
	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication/store"
)

// status is the applied cycle of the hub's only replication (0 if none).
func (h *hubProc) applied() uint64 {
	var st []struct {
		AppliedCycle uint64 `json:"applied_cycle"`
	}
	decode(h.t, h.ctl("status", "-o", "json"), &st)
	if len(st) != 1 {
		return 0
	}
	return st[0].AppliedCycle
}

// TestRun_hubMode_replicatesThroughTheHub runs hvm-provider run in hub
// mode against a real hub and agent over a simulated host: the operator
// enables replication with hvmctl, the copy and two or more cycles are
// applied by the hub, and the hub's recovery point of the last cycle holds
// the source disk as it was at that cycle's log switch.
func TestRun_hubMode_replicatesThroughTheHub(t *testing.T) {
	srv := azurite.Start(t)
	hub := startHub(t, srv)
	idDir, _ := hub.registerHost()
	sim := simhosttest.Start(t)
	vm := createVM(t, sim)
	agentSock := startAgent(t, srv)
	stopWorkload := workload(t, sim, vm.ID)
	defer stopWorkload()

	state := filepath.Join(t.TempDir(), "provider.db")
	stopProvider := runProvider(t, "--identity", idDir, "--simhost", sim.Socket, "--agent", agentSock, "--state", state,
		"--interval-cap", "1s", "--grant-wait", "10s")
	waitUntil(t, "inventory at the hub", 20*time.Second, func() bool { return strings.Contains(hub.ctl("vm", "list"), "hubmode") })
	hub.ctl("replicate", "enable", "hubmode", "--interval", "30s", "--keep-latest", "3", "--keep-window", "0")
	waitUntil(t, "base and two cycles applied", 45*time.Second, func() bool { return hub.applied() >= 3 })
	stopProvider()
	stopWorkload()

	offset := switchOffset(t, state, vm.ID)
	last := hub.applied()
	want, err := sim.Client.GetSwitchChecksums(context.Background(), vm.ID, last+offset)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 {
		t.Fatalf("checksums of %d disks, want 1", len(want))
	}
	got := pointChecksum(t, hub, srv, vm, last, want[0].Size)
	if got != want[0].SHA256 {
		t.Fatalf("recovery point of cycle %d has sha256 %s; the source at switch %d has %s", last, got, last+offset, want[0].SHA256)
	}
	t.Logf("recovery point of cycle %d matches the source at host switch %d", last, last+offset)
}

// workload writes to the VM's disk until stopped; stopping twice is fine.
func workload(t *testing.T, sim *simhosttest.Daemon, vmID string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := sim.Client.RunWorkload(ctx, simhost.WorkloadSpec{VMID: vmID, Pattern: simhost.PatternRandom,
			Sizes: []simhost.IOSize{{Bytes: 4 << 10, Weight: 1}}, RateBytesPerSec: 256 << 10, Duration: 5 * time.Minute,
			OverwriteRatio: 0.3, Seed: uint64(time.Now().UnixNano())}, nil)
		if err != nil && ctx.Err() == nil {
			t.Errorf("workload: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

// switchOffset reads the stopped provider's state and returns how far the
// host's switch numbers run ahead of its cycle numbers.
func switchOffset(t *testing.T, path, vmID string) uint64 {
	t.Helper()
	st, err := store.Open(store.DefaultConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, ok, err := st.Get(vmID)
	if err != nil || !ok {
		t.Fatalf("provider state of vm %s: %v (found %v)", vmID, err, ok)
	}
	if s.Generation != 1 {
		t.Fatalf("vm resynced (generation %d): the switch numbers do not map", s.Generation)
	}
	if c := s.InFlight; c != nil && c.HostSwitch != 0 {
		return c.HostSwitch - c.Number
	}
	return s.HostSwitch - s.LastCycle
}

// pointChecksum reads the disk of the hub's recovery point of a cycle
// and returns its SHA-256.
func pointChecksum(t *testing.T, hub *hubProc, srv *azurite.Server, vm simhost.VM, cycle uint64, size int64) string {
	t.Helper()
	var points []struct {
		ID    uint64 `json:"id"`
		Disks []struct {
			DiskID   string `json:"disk_id"`
			Snapshot string `json:"snapshot"`
		} `json:"disks"`
	}
	decode(t, hub.ctl("recovery-points", "list", "hubmode", "-o", "json"), &points)
	var projects []struct{ ID string }
	decode(t, hub.ctl("project", "list", "-o", "json"), &projects)
	for _, p := range points {
		if p.ID != cycle || len(p.Disks) != 1 {
			continue
		}
		name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(t, vm.ID), hexID(t, p.Disks[0].DiskID))
		admin, err := srv.Client()
		if err != nil {
			t.Fatal(err)
		}
		bc, err := admin.ServiceClient().NewContainerClient("rep-" + projects[0].ID).NewBlobClient(name).WithSnapshot(p.Disks[0].Snapshot)
		if err != nil {
			t.Fatal(err)
		}
		r, err := bc.DownloadStream(context.Background(), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: size}})
		if err != nil {
			t.Fatalf("read recovery point %d: %v", cycle, err)
		}
		defer r.Body.Close()
		h := sha256.New()
		if n, err := io.Copy(h, r.Body); err != nil || n != size {
			t.Fatalf("read recovery point %d: %d bytes, %v", cycle, n, err)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	t.Fatalf("no recovery point of cycle %d among %+v", cycle, points)
	return ""
}

func hexID(t *testing.T, s string) string {
	t.Helper()
	u, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(u[:])
}
