package hubclient_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"hvmigrate/integration/azurite"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/shared/delta"
)

// Knobs of the SIGKILL test; both are logged so a failure can be replayed.
const (
	killsVar = "HVM_TEST_HUB_KILLS" // how many times the hub is killed; default defaultKills
	seedVar  = "HVM_TEST_SEED"      // the seed of cycles, duplicates, reorders and kill delays
)

const (
	defaultKills = 50
	// backlog is how many cycles the host keeps reported ahead of the
	// replicas, so every hub life has applies to be killed in.
	backlog = 6
	// historyWindow is how many cycles of the model the test keeps; more
	// than backlog plus the retention, so every point the hub can still
	// hold has its model.
	historyWindow = backlog + 8
	// maxKillDelay bounds the time a hub lives after it says it serves.
	maxKillDelay = 1200 * time.Millisecond
)

// TestHub_sigkillWhileApplying runs hvm-hub as a real process and kills it
// with SIGKILL at seeded random moments while it applies a stream of
// random cycles (data and zero extents, three disks) that the test, playing
// the host, uploads with the granted SAS and reports through the Link,
// sometimes twice and sometimes out of order. After every kill, with the
// hub dead, every snapshot the hub took must equal the model disks at its
// cycle and no replica may move backwards; the hub is then started again and
// the Link reconnects and re-sends what was not acknowledged. At the end the
// hub must have applied every cycle once, in order, with no gap and healthy,
// keep exactly the retained recovery points, and every one of them (and
// the replicas) must equal the model byte for byte.
func TestHub_sigkillWhileApplying(t *testing.T) {
	kills, seed := envUint(t, killsVar, defaultKills), envUint(t, seedVar, uint64(time.Now().UnixNano()))
	t.Logf("%d kills, seed %d (%s=%d %s=%d replays the cycles and the kill delays)", kills, seed, seedVar, seed, killsVar, kills)
	srv := azurite.Start(t)
	e := newHub(t)
	e.stop()
	setStorage(t, e, srv)
	e.start()
	_, dir := register(t, e.key("proj", "1h"))
	rec := &recorder{}
	le := startLink(t, dir, rec, nil)
	waitUntil(t, "link connected", le.link.Connected)

	vm := newE2EVM(2<<20, 1<<20+4096, 3<<20)
	vm.rng = rand.New(rand.NewPCG(seed, 1))
	r := &killRun{t: t, e: e, srv: srv, le: le, rec: rec, vm: vm, rng: rand.New(rand.NewPCG(seed, 2)),
		verified: map[string]bool{}, seqs: make([]int64, len(vm.disks))}
	r.project = replicateVM(t, e, srv, le, rec, vm, "--keep-latest", "3", "--keep-window", "0")
	start := time.Now()
	r.produce()
	for k := range kills {
		delay := time.Duration(r.rng.Int64N(int64(maxKillDelay)))
		time.Sleep(delay)
		e.kill()
		r.afterKill(k)
		r.produce()
		e.start()
	}
	r.finish()
	t.Logf("%d kills in %v: %d cycles applied, %d kills left the disks at different cycles, %d snapshots compared, "+
		"%d manifests sent twice, %d pairs sent out of order",
		kills, time.Since(start).Round(time.Millisecond), r.produced, r.midCycle, len(r.verified), r.dups, r.swaps)
	if kills >= 20 && r.midCycle == 0 {
		t.Errorf("no kill of %d landed between two disks of a cycle: the kills do not test what they claim", kills)
	}
}

func envUint(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// kill ends the hub process with SIGKILL and waits for it to be gone.
func (e *hubEnv) kill() {
	e.t.Helper()
	if err := e.proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill hub: %v", err)
	}
	select {
	case <-e.proc.done:
	case <-time.After(15 * time.Second):
		e.t.Fatal("hub still running after SIGKILL")
	}
}

// killRun is the state of one SIGKILL run: the host's side and what was
// checked.
type killRun struct {
	t       *testing.T
	e       *hubEnv
	srv     *azurite.Server
	le      *linkEnv
	rec     *recorder
	vm      *e2eVM
	rng     *rand.Rand
	project string

	produced uint64                     // last cycle uploaded and reported
	sent     []*hubclient.CycleManifest // every manifest reported, by cycle-1
	seqs     []int64                    // each replica's sequence number at the last kill
	verified map[string]bool            // snapshot ids compared with the model
	midCycle int                        // kills after which the disks stood at different cycles
	dups     int                        // manifests reported again
	swaps    int                        // pairs of manifests reported out of order
}

// afterKill checks the storage the dead hub left: no replica moved
// backwards or past what was reported, and every snapshot it took equals
// the model at the snapshot's cycle.
func (r *killRun) afterKill(k uint64) {
	r.t.Helper()
	seqs := r.replicaSeqs()
	for i, s := range seqs {
		if s < r.seqs[i] || uint64(s) > r.produced {
			r.t.Fatalf("kill %d: disk %d replica at cycle %d, was %d, %d reported", k, i, s, r.seqs[i], r.produced)
		}
	}
	if slices.Min(seqs) != slices.Max(seqs) {
		r.midCycle++
	}
	r.seqs = seqs
	r.compareSnapshots()
}

// produce uploads new cycles with the granted SAS until backlog cycles
// wait beyond the replicas (or the grants run out, until the hub renews
// them), and reports them through the Link, sometimes with a duplicate or
// two manifests swapped.
func (r *killRun) produce() {
	r.t.Helper()
	var batch []*hubclient.CycleManifest
	for r.produced < uint64(slices.Min(r.seqs))+backlog {
		m, ok := r.upload(r.produced + 1)
		if !ok {
			break
		}
		batch = append(batch, m)
		r.sent = append(r.sent, m)
		r.produced++
	}
	if len(batch) >= 2 && r.rng.IntN(3) == 0 {
		i := r.rng.IntN(len(batch) - 1)
		batch[i], batch[i+1] = batch[i+1], batch[i]
		r.swaps++
	}
	if len(r.sent) > 0 && r.rng.IntN(3) == 0 {
		batch = append(batch, r.sent[r.rng.IntN(len(r.sent))])
		r.dups++
	}
	for _, m := range batch {
		send(r.t, r.le, hubclient.Event{CycleManifest: m})
	}
}

// upload makes cycle c of every disk and uploads its objects; it reports
// false when the host holds no grant for c yet.
func (r *killRun) upload(c uint64) (*hubclient.CycleManifest, bool) {
	r.t.Helper()
	names := make([]string, len(r.vm.disks))
	urls := make([]string, len(r.vm.disks))
	grants := grantsOf(r.rec, r.vm.id.String())
	for i, d := range r.vm.disks {
		names[i] = fmt.Sprintf("vm/%s/disk/%s/cycle/%d.delta", hexID(r.vm.id), hexID(d), c)
		for p, u := range grants {
			if strings.HasSuffix(p, "/"+names[i]) {
				urls[i] = u
			}
		}
		if urls[i] == "" {
			return nil, false
		}
	}
	m := &hubclient.CycleManifest{VMID: r.vm.id.String(), Cycle: c, SwitchedAt: time.Now()}
	for i, d := range r.vm.disks {
		obj := r.vm.change(r.t, i, c, randomPlan(r.rng, int64(len(r.vm.models[i]))))
		uploadBlock(r.t, r.srv, urls[i], obj)
		m.Disks = append(m.Disks, hubclient.ManifestDisk{DiskID: d.String(), ObjectName: names[i], SizeBytes: uint64(len(obj))})
	}
	r.vm.keep(c)
	delete(r.vm.history, c-min(c, historyWindow))
	return m, true
}

// randomPlan is one cycle's change of a disk: in each of 4 to 15 equal
// slots, maybe one extent of up to 256 KiB, a quarter of them zero.
func randomPlan(rng *rand.Rand, size int64) []delta.Extent {
	n := 4 + rng.Int64N(12)
	slot := size / n / delta.SectorSize * delta.SectorSize
	var plan []delta.Extent
	for s := range n {
		if rng.IntN(5) == 0 {
			continue
		}
		sectors := 1 + rng.Int64N(min(slot, 256<<10)/delta.SectorSize)
		off := s*slot + rng.Int64N(slot/delta.SectorSize-sectors+1)*delta.SectorSize
		kind := delta.Data
		if rng.IntN(4) == 0 {
			kind = delta.Zero
		}
		plan = append(plan, delta.Extent{Offset: off, Length: sectors * delta.SectorSize, Kind: kind})
	}
	return plan
}

// finish waits until the hub applied every reported cycle and checks the
// end state through hvmctl and storage.
func (r *killRun) finish() {
	r.t.Helper()
	type vmStatus struct {
		AppliedCycle   uint64 `json:"applied_cycle"`
		LatestReported uint64 `json:"latest_reported_cycle"`
		Health         string `json:"health"`
		HealthMessage  string `json:"health_message"`
	}
	var st []vmStatus
	deadline := time.Now().Add(time.Minute)
	for {
		st = decodeJSON[[]vmStatus](r.t, r.e.mustCtl("status", "-o", "json"))
		if len(st) == 1 && st[0].AppliedCycle == r.produced && st[0].Health == "ok" {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("hub did not apply every cycle through %d: %+v", r.produced, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st[0].LatestReported != r.produced {
		r.t.Errorf("latest reported cycle %d, want %d", st[0].LatestReported, r.produced)
	}
	points := listPoints(r.t, r.e, "web01")
	var ids []uint64
	for _, p := range points {
		ids = append(ids, p.ID)
		comparePoint(r.t, r.srv, r.project, r.vm, p)
	}
	if want := []uint64{r.produced - 2, r.produced - 1, r.produced}; !slices.Equal(ids, want) {
		r.t.Errorf("recovery points %v, want %v (keep latest 3)", ids, want)
	}
	r.compareReplicas()
}

// blobClient returns disk i's replica (or one of its snapshots).
func (r *killRun) blobClient(i int, snapshot string) *blob.Client {
	r.t.Helper()
	admin, err := r.srv.Client()
	if err != nil {
		r.t.Fatal(err)
	}
	name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(r.vm.id), hexID(r.vm.disks[i]))
	bc := admin.ServiceClient().NewContainerClient("rep-" + r.project).NewBlobClient(name)
	if snapshot == "" {
		return bc
	}
	if bc, err = bc.WithSnapshot(snapshot); err != nil {
		r.t.Fatal(err)
	}
	return bc
}

// replicaSeqs reads every replica's sequence number: the cycle it stands at.
func (r *killRun) replicaSeqs() []int64 {
	r.t.Helper()
	out := make([]int64, len(r.vm.disks))
	for i := range r.vm.disks {
		p, err := r.blobClient(i, "").GetProperties(context.Background(), nil)
		if err != nil || p.BlobSequenceNumber == nil {
			r.t.Fatalf("replica of disk %d: %v", i, err)
		}
		out[i] = *p.BlobSequenceNumber
	}
	return out
}

// compareSnapshots compares every snapshot of every replica not compared
// yet with the model at the cycle its metadata names: the hub takes a
// snapshot only of a disk standing at that cycle, recorded as a recovery
// point or not (a kill between the snapshot and the record leaves one the
// next life reuses).
func (r *killRun) compareSnapshots() {
	r.t.Helper()
	admin, err := r.srv.Client()
	if err != nil {
		r.t.Fatal(err)
	}
	for i, d := range r.vm.disks {
		prefix := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(r.vm.id), hexID(d))
		pager := admin.NewListBlobsFlatPager("rep-"+r.project, &azblob.ListBlobsFlatOptions{Prefix: ptr(prefix),
			Include: container.ListBlobsInclude{Snapshots: true, Metadata: true}})
		for pager.More() {
			page, err := pager.NextPage(context.Background())
			if err != nil {
				r.t.Fatalf("list snapshots of disk %d: %v", i, err)
			}
			for _, item := range page.Segment.BlobItems {
				if item.Snapshot == nil || r.verified[*item.Snapshot+prefix] {
					continue
				}
				r.compareSnapshot(i, *item.Snapshot, item.Metadata)
				r.verified[*item.Snapshot+prefix] = true
			}
		}
	}
}

func (r *killRun) compareSnapshot(i int, snapshot string, meta map[string]*string) {
	r.t.Helper()
	var tag *string
	for k, v := range meta {
		if strings.EqualFold(k, "hvm_cycle") {
			tag = v
		}
	}
	if tag == nil {
		r.t.Fatalf("disk %d snapshot %s carries no cycle: %v", i, snapshot, meta)
	}
	cycle, err := strconv.ParseUint(*tag, 10, 64)
	if err != nil {
		r.t.Fatalf("disk %d snapshot %s: cycle %q: %v", i, snapshot, *tag, err)
	}
	models, ok := r.vm.history[cycle]
	if !ok {
		r.t.Fatalf("disk %d snapshot %s of cycle %d: the model of that cycle is no longer kept (reported through %d)",
			i, snapshot, cycle, r.produced)
	}
	if !bytes.Equal(r.read(i, snapshot, len(models[i])), models[i]) {
		r.t.Fatalf("disk %d snapshot %s of cycle %d differs from the model at that cycle", i, snapshot, cycle)
	}
}

// compareReplicas checks the live replicas against the model's last cycle.
func (r *killRun) compareReplicas() {
	r.t.Helper()
	for i, m := range r.vm.models {
		if !bytes.Equal(r.read(i, "", len(m)), m) {
			r.t.Errorf("replica of disk %d differs from the model at cycle %d", i, r.produced)
		}
	}
}

func (r *killRun) read(i int, snapshot string, n int) []byte {
	r.t.Helper()
	resp, err := r.blobClient(i, snapshot).DownloadStream(context.Background(),
		&blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: int64(n)}})
	if err != nil {
		r.t.Fatalf("read disk %d snapshot %q: %v", i, snapshot, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read disk %d snapshot %q: %v", i, snapshot, err)
	}
	return got
}
