package cli_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"hvmigrate/integration/azurite"
	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
)

const resyncDisk = 8 << 20

// TestRun_hubMode_resyncSendsOnlyDifferingChunks runs the whole chain
// (hub, agent, provider, simulated host, emulator) and makes the VM
// resync twice: (a) the logs of one switch are lost, (b) one cycle's logs
// grow past half the disk while rewriting one small region. Each resync
// must leave the replica byte-identical to the source and send far fewer
// bytes than a full copy of the disk's data would.
func TestRun_hubMode_resyncSendsOnlyDifferingChunks(t *testing.T) {
	srv := azurite.Start(t)
	hub := startHub(t, srv)
	idDir, _ := hub.registerHost()
	sim := simhosttest.Start(t)
	vm := resyncVM(t, sim)
	agentSock := startAgent(t, srv)
	runProvider(t, "--identity", idDir, "--simhost", sim.Socket, "--agent", agentSock,
		"--state", filepath.Join(t.TempDir(), "provider.db"), "--interval-cap", "1s", "--grant-wait", "10s")
	waitUntil(t, "inventory at the hub", 20*time.Second, func() bool { return strings.Contains(hub.ctl("vm", "list"), "resync") })
	hub.ctl("replicate", "enable", "resync", "--interval", "30s", "--keep-latest", "10", "--keep-window", "0")
	waitUntil(t, "base and a cycle applied", 45*time.Second, func() bool { return hub.applied() >= 2 })
	r := &resyncRig{t: t, hub: hub, srv: srv, sim: sim, vm: vm}

	// (a) A lost log: three 64 KiB writes, then a switch the provider never
	// sees, whose logs are deleted.
	for _, off := range []int64{5 << 20, 6<<20 + 128<<10, 7 << 20} {
		writeRandom(t, sim, vm.ID, off, 64<<10)
	}
	sw, err := sim.Client.SwitchLogs(context.Background(), vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sw.Disks {
		for _, p := range d.ClosedLogs {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	r.check("lost log", 0, 3*64<<10)

	// (b) Pending logs past 50% of the disk: one 256 KiB region rewritten
	// 40 times (10 MiB of log for an 8 MiB disk).
	for range 40 {
		writeRandom(t, sim, vm.ID, 2<<20, 256<<10)
	}
	r.check("logs past 50%", r.lastResync, 256<<10)
}

// resyncRig finds and checks the resyncs of one VM.
type resyncRig struct {
	t          *testing.T
	hub        *hubProc
	srv        *azurite.Server
	sim        *simhosttest.Daemon
	vm         simhost.VM
	lastResync uint64
}

// check waits for a resync after cycle `after`, then for it and a later
// cycle to be applied, and compares the newest recovery point with the
// source (nothing writes to it meanwhile). It logs the bytes the resync
// sent against the bytes a full copy sends (the non-zero data of the
// disk) and requires the ratio to stay below a quarter; changed is what
// the workload changed.
func (r *resyncRig) check(what string, after uint64, changed int64) {
	t := r.t
	t.Helper()
	var cycle uint64
	var sent int64
	waitUntil(t, what+": a resync object", 60*time.Second, func() bool {
		cycle, sent = r.resyncObject(after)
		return cycle > 0
	})
	r.lastResync = cycle
	waitUntil(t, what+": resync applied and a cycle after it", 45*time.Second, func() bool { return r.hub.applied() > cycle })
	last := r.hub.applied()
	sum, data := pointContent(t, r.hub, r.srv, r.vm, last, resyncDisk)
	want, err := r.sim.Client.ChecksumDisks(context.Background(), r.vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 1 || sum != want[0].SHA256 {
		t.Fatalf("%s: recovery point of cycle %d has sha256 %s; the source has %+v", what, last, sum, want)
	}
	ratio := float64(sent) / float64(data)
	t.Logf("%s: resync cycle %d sent %d bytes for %d changed; a full copy sends %d bytes of data: ratio %.3f; cycle %d matches the source",
		what, cycle, sent, changed, data, ratio, last)
	if changed*10 >= resyncDisk || ratio >= 0.25 {
		t.Fatalf("%s: resync sent %d bytes, %.1f%% of a full copy's %d", what, sent, 100*ratio, data)
	}
}

// resyncObject returns the cycle and size of the VM's first resync object
// after cycle `after`, or 0.
func (r *resyncRig) resyncObject(after uint64) (uint64, int64) {
	t := r.t
	var projects []struct{ ID string }
	decode(t, r.hub.ctl("project", "list", "-o", "json"), &projects)
	admin, err := r.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("vm/%s/disk/", hexID(t, r.vm.ID))
	pager := admin.ServiceClient().NewContainerClient("cyc-" + projects[0].ID).NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &prefix})
	var best uint64
	var size int64
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Segment.BlobItems {
			_, rest, ok := strings.Cut(*b.Name, "/resync/")
			n, err := strconv.ParseUint(strings.TrimSuffix(rest, ".delta"), 10, 64)
			if ok && err == nil && n > after && (best == 0 || n < best) {
				best, size = n, *b.Properties.ContentLength
			}
		}
	}
	return best, size
}

// resyncVM makes a running one-disk VM whose first half holds random data.
func resyncVM(t *testing.T, sim *simhosttest.Daemon) simhost.VM {
	t.Helper()
	ctx := context.Background()
	vm, err := sim.Client.CreateVM(ctx, simhost.VMSpec{Name: "resync", Disks: []simhost.DiskSpec{{Size: resyncDisk}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Client.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < resyncDisk/2; off += 1 << 20 {
		writeRandom(t, sim, vm.ID, off, 1<<20)
	}
	return vm
}

func writeRandom(t *testing.T, sim *simhosttest.Daemon, vmID string, off, n int64) {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	if err := sim.Client.WriteDisk(context.Background(), simhost.WriteRequest{VMID: vmID, Offset: off, Data: b}); err != nil {
		t.Fatal(err)
	}
}

// pointContent reads the disk of the hub's recovery point of a cycle and
// returns its SHA-256 and how many bytes of it are not zero (in 4 KiB
// blocks): what a full copy, which skips zero ranges, sends.
func pointContent(t *testing.T, hub *hubProc, srv *azurite.Server, vm simhost.VM, cycle uint64, size int64) (string, int64) {
	t.Helper()
	var points []struct {
		ID    uint64 `json:"id"`
		Disks []struct {
			DiskID   string `json:"disk_id"`
			Snapshot string `json:"snapshot"`
		} `json:"disks"`
	}
	decode(t, hub.ctl("recovery-points", "list", vm.Name, "-o", "json"), &points)
	var projects []struct{ ID string }
	decode(t, hub.ctl("project", "list", "-o", "json"), &projects)
	admin, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if p.ID != cycle || len(p.Disks) != 1 {
			continue
		}
		name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(t, vm.ID), hexID(t, p.Disks[0].DiskID))
		bc, err := admin.ServiceClient().NewContainerClient("rep-" + projects[0].ID).NewBlobClient(name).WithSnapshot(p.Disks[0].Snapshot)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := bc.DownloadStream(context.Background(), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: size}})
		if err != nil {
			t.Fatalf("read recovery point %d: %v", cycle, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || int64(len(b)) != size {
			t.Fatalf("read recovery point %d: %d bytes, %v", cycle, len(b), err)
		}
		var data int64
		zero := make([]byte, 4096)
		for off := 0; off < len(b); off += 4096 {
			if !bytes.Equal(b[off:off+4096], zero) {
				data += 4096
			}
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:]), data
	}
	t.Fatalf("no recovery point of cycle %d among %+v", cycle, points)
	return "", 0
}
