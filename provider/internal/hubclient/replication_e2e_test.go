package hubclient_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/google/uuid"

	hubcli "hvmigrate/hub/cli"
	"hvmigrate/hub/ctl"
	"hvmigrate/integration/azurite"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/shared/delta"
)

// e2eVM is the test's model of one VM on the host the test plays.
type e2eVM struct {
	id      uuid.UUID
	disks   []uuid.UUID
	models  [][]byte
	history map[uint64][][]byte
	rng     *rand.Rand
}

func newE2EVM(sizes ...int) *e2eVM {
	vm := &e2eVM{id: uuid.New(), history: map[uint64][][]byte{}, rng: rand.New(rand.NewPCG(3, 4))}
	for _, size := range sizes {
		m := make([]byte, size)
		for i := 0; i < size; i += 8192 {
			copy(m[i:min(i+4096, size)], bytes.Repeat([]byte{byte(vm.rng.Uint32() | 1)}, 4096))
		}
		vm.disks, vm.models = append(vm.disks, uuid.New()), append(vm.models, m)
	}
	return vm
}

func hexID(u uuid.UUID) string { return fmt.Sprintf("%x", u[:]) }

// cycleObject changes a disk's model (two data extents and one zero extent)
// and returns the delta object of the change.
func (vm *e2eVM) cycleObject(t *testing.T, i int, cycle uint64) []byte {
	size := int64(len(vm.models[i]))
	a := int64(vm.rng.IntN(int(size/2/512))) * 512
	plan := []delta.Extent{{Offset: a, Length: 4096, Kind: delta.Data}, {Offset: a + 8192, Length: 1024, Kind: delta.Zero},
		{Offset: size - 1536, Length: 1536, Kind: delta.Data}}
	return vm.change(t, i, cycle, plan)
}

// change applies plan to a disk's model (random bytes for data extents,
// zeros for zero extents) and returns the delta object of the change.
func (vm *e2eVM) change(t *testing.T, i int, cycle uint64, plan []delta.Extent) []byte {
	t.Helper()
	size := int64(len(vm.models[i]))
	var buf bytes.Buffer
	hdr := delta.Header{Kind: delta.KindCycle, VMID: delta.ID(vm.id), DiskID: delta.ID(vm.disks[i]), Cycle: cycle,
		PrevCycle: cycle - 1, VirtualSize: size}
	w, err := delta.NewWriter(&buf, hdr, plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range plan {
		dst := vm.models[i][e.Offset:e.End()]
		if e.Kind == delta.Zero {
			clear(dst)
			continue
		}
		for j := 0; j < len(dst); j += 8 { // sector-aligned: a multiple of 8
			binary.LittleEndian.PutUint64(dst[j:], vm.rng.Uint64())
		}
		if _, err := w.Write(dst); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (vm *e2eVM) keep(cycle uint64) {
	snap := make([][]byte, len(vm.models))
	for i, m := range vm.models {
		snap[i] = bytes.Clone(m)
	}
	vm.history[cycle] = snap
}

// grantsOf collects the SAS URLs of every command for the VM, by path.
func grantsOf(r *recorder, vmID string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for _, c := range r.got {
		var gs []hubclient.SASGrant
		if c.EnableReplication != nil && c.EnableReplication.VMID == vmID {
			gs = c.EnableReplication.SAS
		}
		if c.RefreshSAS != nil && c.RefreshSAS.VMID == vmID {
			gs = c.RefreshSAS.Grants
		}
		for _, g := range gs {
			u, _ := url.Parse(g.URL.Reveal())
			out[u.Path] = g.URL.Reveal()
		}
	}
	return out
}

func grantFor(t *testing.T, r *recorder, vmID, suffix string) string {
	t.Helper()
	for p, u := range grantsOf(r, vmID) {
		if strings.HasSuffix(p, suffix) {
			return u
		}
	}
	t.Fatalf("no grant ends with %s", suffix)
	return ""
}

// TestReplication_endToEnd: a hub with a storage account, a host played by
// the test through the Link, hvmctl as the operator. Enable hands the host
// working grants; the host's uploads and manifests become replicas whose
// recovery points equal the source at every cycle.
func TestReplication_endToEnd(t *testing.T) {
	srv := azurite.Start(t)
	e := newHub(t)
	e.stop()
	setStorage(t, e, srv)
	e.start()
	_, dir := register(t, e.key("proj", "1h"))
	rec := &recorder{}
	le := startLink(t, dir, rec, nil)
	waitUntil(t, "link connected", le.link.Connected)

	vm := newE2EVM(1<<20, 2<<20+4096)
	project := replicateVM(t, e, srv, le, rec, vm, "--keep-latest", "2", "--keep-window", "0")
	for c := uint64(1); c <= 3; c++ {
		m := &hubclient.CycleManifest{VMID: vm.id.String(), Cycle: c, SwitchedAt: time.Now()}
		for i, d := range vm.disks {
			name := fmt.Sprintf("vm/%s/disk/%s/cycle/%d.delta", hexID(vm.id), hexID(d), c)
			obj := vm.cycleObject(t, i, c)
			uploadBlock(t, srv, grantFor(t, rec, vm.id.String(), "/"+name), obj)
			m.Disks = append(m.Disks, hubclient.ManifestDisk{DiskID: d.String(), ObjectName: name, SizeBytes: uint64(len(obj))})
		}
		vm.keep(c)
		send(t, le, hubclient.Event{CycleManifest: m})
		waitUntil(t, fmt.Sprintf("cycle %d applied", c), func() bool {
			st := decodeJSON[[]struct {
				AppliedCycle uint64 `json:"applied_cycle"`
			}](t, e.mustCtl("status", "-o", "json"))
			return len(st) == 1 && st[0].AppliedCycle == c
		})
		checkPoints(t, e, srv, project, vm, c)
	}
	out := e.mustCtl("status")
	for _, want := range []string{"web01", "replicating", "100%", "ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	checkWatch(t, e)
	checkTestMigrate(t, e, srv, project)
	checkThrottle(t, e, rec)
	for _, secretText := range []string{srv.Key.Reveal(), "sig="} {
		if strings.Contains(e.out.String(), secretText) || strings.Contains(le.log.String(), secretText) {
			t.Errorf("a log carries %q", secretText)
		}
	}
}

// replicateVM reports vm as web01 in the host's inventory, enables its
// replication with the policy flags given, makes the initial copy and
// returns the project id.
func replicateVM(t *testing.T, e *hubEnv, srv *azurite.Server, le *linkEnv, rec *recorder, vm *e2eVM, policy ...string) string {
	t.Helper()
	inv := hubclient.VM{ID: vm.id.String(), Name: "web01", PowerState: "running"}
	for i, d := range vm.disks {
		inv.Disks = append(inv.Disks, hubclient.Disk{ID: d.String(), Name: fmt.Sprintf("disk%d", i), SizeBytes: uint64(len(vm.models[i]))})
	}
	send(t, le, hubclient.Event{Inventory: &hubclient.Inventory{VMs: []hubclient.VM{inv}}})
	waitUntil(t, "inventory stored", func() bool { return strings.Contains(e.mustCtl("vm", "list"), "web01") })

	e.mustCtl(append([]string{"replicate", "enable", "web01", "--interval", "30s"}, policy...)...)
	waitUntil(t, "enable command", func() bool { return len(grantsOf(rec, vm.id.String())) > 0 })
	copyInitial(t, srv, le, rec, vm)
	vm.keep(0)
	return decodeJSON[[]struct{ ID string }](t, e.mustCtl("project", "list", "-o", "json"))[0].ID
}

func send(t *testing.T, le *linkEnv, ev hubclient.Event) {
	t.Helper()
	if _, err := le.link.Send(ev); err != nil {
		t.Fatal(err)
	}
}

// setStorage points the hub at the emulator with hvm-hub storage set.
func setStorage(t *testing.T, e *hubEnv, srv *azurite.Server) {
	t.Helper()
	caFile, keyFile := filepath.Join(t.TempDir(), "ca.pem"), filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(caFile, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(srv.Key.Reveal()), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := hubcli.Main([]string{"storage", "set", "--dir", e.dir, "--endpoint", srv.Endpoint, "--account", srv.Account,
		"--key-file", keyFile, "--ca-file", caFile}, &out, &out)
	if code != 0 || strings.Contains(out.String(), srv.Key.Reveal()) {
		t.Fatalf("hvm-hub storage set: exit %d: %s", code, out.String())
	}
}

// copyInitial writes every disk's data with its replica grant and reports
// the progress, as the agent and the provider do.
func copyInitial(t *testing.T, srv *azurite.Server, le *linkEnv, rec *recorder, vm *e2eVM) {
	t.Helper()
	for i, d := range vm.disks {
		raw := grantFor(t, rec, vm.id.String(), "/disk/"+hexID(d)+".vhd")
		c, err := pageblob.NewClientWithNoCredential(raw, &pageblob.ClientOptions{ClientOptions: srv.ClientOptions().ClientOptions})
		if err != nil {
			t.Fatal(err)
		}
		m := vm.models[i]
		if _, err := c.UploadPages(context.Background(), streaming.NopCloser(bytes.NewReader(m)),
			blob.HTTPRange{Offset: 0, Count: int64(len(m))}, nil); err != nil {
			t.Fatalf("initial copy: %v", err)
		}
		send(t, le, hubclient.Event{Progress: &hubclient.Progress{VMID: vm.id.String(), DiskID: d.String(),
			Phase: "initial_copy", DoneBytes: uint64(len(m)), TotalBytes: uint64(len(m))}})
	}
}

func uploadBlock(t *testing.T, srv *azurite.Server, raw string, obj []byte) {
	t.Helper()
	c, err := blockblob.NewClientWithNoCredential(raw, &blockblob.ClientOptions{ClientOptions: srv.ClientOptions().ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadBuffer(context.Background(), obj, &azblob.UploadBufferOptions{BlockSize: 64 << 10}); err != nil {
		t.Fatalf("upload cycle object: %v", err)
	}
}

// recoveryPoint is one entry of hvmctl recovery-points list -o json.
type recoveryPoint struct {
	ID    uint64 `json:"id"`
	Disks []struct {
		DiskID   string `json:"disk_id"`
		Snapshot string `json:"snapshot"`
	} `json:"disks"`
}

func listPoints(t *testing.T, e *hubEnv, vmName string) []recoveryPoint {
	t.Helper()
	return decodeJSON[[]recoveryPoint](t, e.mustCtl("recovery-points", "list", vmName, "-o", "json"))
}

// checkPoints reads every kept recovery point's snapshots and compares
// them with the model at that cycle.
func checkPoints(t *testing.T, e *hubEnv, srv *azurite.Server, project string, vm *e2eVM, latest uint64) {
	t.Helper()
	points := listPoints(t, e, "web01")
	if len(points) != min(int(latest), 2) || points[len(points)-1].ID != latest {
		t.Fatalf("after cycle %d: points %+v", latest, points)
	}
	for _, p := range points {
		comparePoint(t, srv, project, vm, p)
	}
}

// comparePoint reads a recovery point's snapshot of every disk and
// compares it with the model at the point's cycle.
func comparePoint(t *testing.T, srv *azurite.Server, project string, vm *e2eVM, p recoveryPoint) {
	t.Helper()
	admin, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	models, ok := vm.history[p.ID]
	if !ok {
		t.Fatalf("recovery point of cycle %d: the model of that cycle is no longer kept", p.ID)
	}
	for i, d := range vm.disks {
		snap := ""
		for _, pd := range p.Disks {
			if pd.DiskID == d.String() {
				snap = pd.Snapshot
			}
		}
		if snap == "" {
			t.Fatalf("recovery point of cycle %d has no snapshot of disk %d", p.ID, i)
		}
		name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(vm.id), hexID(d))
		bc, err := admin.ServiceClient().NewContainerClient("rep-" + project).NewBlobClient(name).WithSnapshot(snap)
		if err != nil {
			t.Fatal(err)
		}
		want := models[i]
		r, err := bc.DownloadStream(context.Background(), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: int64(len(want))}})
		if err != nil {
			t.Fatalf("read point %d disk %d: %v", p.ID, i, err)
		}
		got, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("point %d disk %d differs from the source at that cycle (%v)", p.ID, i, err)
		}
	}
}

// checkTestMigrate makes a test migration with hvmctl and cleans it up.
func checkTestMigrate(t *testing.T, e *hubEnv, srv *azurite.Server, project string) {
	t.Helper()
	run := decodeJSON[struct {
		RunID string   `json:"run_id"`
		Point uint64   `json:"point"`
		Blobs []string `json:"blobs"`
	}](t, e.mustCtl("test-migrate", "web01", "-o", "json"))
	if run.Point != 3 || len(run.Blobs) != 4 {
		t.Fatalf("test migration = %+v", run)
	}
	count := func() int {
		admin, err := srv.Client()
		if err != nil {
			t.Fatal(err)
		}
		pager := admin.NewListBlobsFlatPager("rep-"+project, &azblob.ListBlobsFlatOptions{Prefix: ptr("testmigrate/")})
		n := 0
		for pager.More() {
			page, err := pager.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.Segment.BlobItems)
		}
		return n
	}
	if n := count(); n != 4 {
		t.Fatalf("%d test migration blobs in storage, want 4", n)
	}
	out := decodeJSON[struct {
		Deleted int `json:"deleted_blobs"`
	}](t, e.mustCtl("test-migrate", "cleanup", "web01", "-o", "json"))
	if out.Deleted != 4 || count() != 0 {
		t.Fatalf("cleanup deleted %d, %d left", out.Deleted, count())
	}
}

func ptr[T any](v T) *T { return &v }

// checkThrottle sets a limit with hvmctl throttle set, sees it in
// throttle show and on the host.
func checkThrottle(t *testing.T, e *hubEnv, rec *recorder) {
	t.Helper()
	host := decodeJSON[[]struct{ ID string }](t, e.mustCtl("host", "list", "-o", "json"))[0].ID
	e.mustCtl("throttle", "set", host, "--work-bps", "1000000", "--off-bps", "0", "--work-start", "07:30")
	shown := decodeJSON[[]struct {
		HostID    string `json:"host_id"`
		WorkBps   int64  `json:"work_hours_bps"`
		WorkStart string `json:"work_start"`
	}](t, e.mustCtl("throttle", "show", "-o", "json"))
	if len(shown) != 1 || shown[0].HostID != host || shown[0].WorkBps != 1000000 || shown[0].WorkStart != "07:30" {
		t.Fatalf("throttle show = %+v", shown)
	}
	waitUntil(t, "throttle command on the host", func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, c := range rec.got {
			if c.SetThrottle != nil && c.SetThrottle.WorkHoursBps == 1000000 {
				return true
			}
		}
		return false
	})
}

// checkWatch runs hvmctl status --watch (not on a terminal: a table per
// update) until the status arrives, then interrupts it.
func checkWatch(t *testing.T, e *hubEnv) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	root := ctl.NewRootCommand()
	root.SetArgs([]string{"--config", filepath.Join(e.dir, "hvmctl.json"), "status", "--watch"})
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	waitUntil(t, "watch output", func() bool { return strings.Contains(out.String(), "replicating") })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("status --watch: %v\n%s", err, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("status --watch did not stop when interrupted")
	}
	if !strings.Contains(out.String(), "web01") || !strings.Contains(out.String(), "CYCLE") {
		t.Fatalf("watch output:\n%s", out.String())
	}
}
