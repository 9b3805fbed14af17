package driver_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	simbackend "hvmigrate/provider/internal/host/simhost"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/driver/fakehub"
	"hvmigrate/provider/internal/replication/store"
	"hvmigrate/shared/secret"
)

// resyncAgent is the fake agent plus hashing (three chunks per disk) and
// resync uploads, which it records.
type resyncAgent struct {
	*fakeAgent
	uploads []agentclient.ResyncUpload
}

func (a *resyncAgent) HashDisk(_ context.Context, path string, chunk int64, fn func(int64, []string) error) (int64, error) {
	if chunk != 64<<10 {
		return 0, fmt.Errorf("chunk %d for a 4 MiB disk, want 64 KiB", chunk)
	}
	if err := fn(0, []string{"a", "b"}); err != nil {
		return 0, err
	}
	return 4 << 20, fn(2, []string{""})
}

func (a *resyncAgent) StartResyncUpload(_ context.Context, s agentclient.ResyncUpload) (agentclient.Job, error) {
	a.mu.Lock()
	a.uploads = append(a.uploads, s)
	a.mu.Unlock()
	return a.put(agentclient.Job{ID: s.JobID, VMID: s.VMID, Cycle: s.Cycle, State: agentclient.JobSucceeded, BytesTotal: 65536, BytesSent: 1234}), nil
}

// comparer answers every complete request with one range, or a full copy.
type comparer struct {
	mu       sync.Mutex
	full     bool
	hashes   map[driver.ResyncRequest][]string
	requests []driver.ResyncRequest
}

func (c *comparer) SendResyncHashes(_ context.Context, h driver.ResyncHashes) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := driver.ResyncRequest{VMID: h.VMID, DiskID: h.DiskID, RequestID: h.RequestID}
	if int64(len(c.hashes[k])) != h.FirstChunk {
		return fmt.Errorf("piece at %d after %d hashes", h.FirstChunk, len(c.hashes[k]))
	}
	c.hashes[k] = append(c.hashes[k], h.SHA256...)
	return nil
}

func (c *comparer) AwaitResync(_ context.Context, req driver.ResyncRequest) (driver.ResyncAnswer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.hashes[req]) != 3 {
		return driver.ResyncAnswer{}, fmt.Errorf("answer asked for %d hashes", len(c.hashes[req]))
	}
	c.requests = append(c.requests, req)
	if c.full {
		return driver.ResyncAnswer{FullCopy: true}, nil
	}
	blob := fmt.Sprintf("vm/%s/disk/%s/resync.delta", req.VMID, req.DiskID)
	return driver.ResyncAnswer{Ranges: []agentclient.Range{{Offset: 65536, Length: 65536}},
		SAS: driver.SAS{Blob: blob, URL: secret.New("https://storage.invalid/c/" + blob + "?sig=x")}}, nil
}

// startResync runs a driver that resyncs by chunk hashes.
func startResync(t *testing.T, full bool) (*driver.Driver, *simhosttest.Daemon, *resyncAgent, *comparer, *fakehub.Hub) {
	t.Helper()
	sim := simhosttest.Start(t)
	backend, err := simbackend.Dial(sim.Socket)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(store.DefaultConfig(filepath.Join(t.TempDir(), "p.db")))
	if err != nil {
		t.Fatal(err)
	}
	ag := &resyncAgent{fakeAgent: &fakeAgent{jobs: map[string]agentclient.Job{}}}
	cmp, hub := &comparer{full: full, hashes: map[driver.ResyncRequest][]string{}}, fakehub.New(nil)
	cfg := driver.DefaultConfig()
	cfg.Machine.MinInterval, cfg.TickEvery = 50*time.Millisecond, 20*time.Millisecond
	cfg.Machine.Backoff, cfg.Machine.RetryEvery = []time.Duration{50 * time.Millisecond}, 100*time.Millisecond
	log := hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: testWriter{t}})
	drv := driver.New(cfg, driver.Deps{Store: st, Host: backend, Agent: ag, Hub: hub, ResyncAgent: ag, Comparer: cmp, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { drv.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; st.Close(); backend.Close() })
	return drv, sim, ag, cmp, hub
}

// TestDriver_resync_uploadsOnlyTheHubsRanges: a corrupt log resyncs;
// each disk's hashes reach the hub in order under one request, the agent
// uploads exactly the ranges the hub named to the granted object as the
// resync's cycle, and the resync's manifest names those objects.
func TestDriver_resync_uploadsOnlyTheHubsRanges(t *testing.T) {
	drv, sim, ag, cmp, hub := startResync(t, false)
	vm := newVM(t, sim)
	if err := sim.Client.StartVM(context.Background(), vm.ID); err != nil {
		t.Fatal(err)
	}
	enable(t, drv, vm.ID)
	waitFor(t, drv, vm.ID, "two cycles", func(s replication.State) bool { return s.LastCycle >= 3 })
	ag.mu.Lock()
	ag.corrupt = true
	ag.mu.Unlock()
	st := waitFor(t, drv, vm.ID, "resync and a cycle", func(s replication.State) bool {
		return s.Generation == 2 && s.Phase == replication.PhaseDeltaReplication && s.LastCycle > s.BaseCycle
	})
	var resync *replication.Manifest
	for _, m := range hub.Manifests(vm.ID) {
		if m.Kind == replication.ManifestResync {
			resync = &m
		}
	}
	if resync == nil || resync.Cycle != st.BaseCycle || len(resync.Disks) != 2 {
		t.Fatalf("resync manifest %+v, want cycle %d with two disks", resync, st.BaseCycle)
	}
	ag.mu.Lock()
	uploads := ag.uploads
	ag.mu.Unlock()
	cmp.mu.Lock()
	compared := len(cmp.requests)
	cmp.mu.Unlock()
	if len(uploads) != 2 || compared != 2 {
		t.Fatalf("%d uploads for %d comparisons, want 2 and 2", len(uploads), compared)
	}
	for i, u := range uploads {
		d := resync.Disks[i]
		if u.DiskID != d.DiskID || u.Cycle != st.BaseCycle || u.Previous != st.BaseCycle-1 || len(u.Ranges) != 1 ||
			u.Ranges[0] != (agentclient.Range{Offset: 65536, Length: 65536}) || u.JobID != replication.ResyncJobID(vm.ID, u.DiskID, 2) ||
			u.Target.Reveal() != "https://storage.invalid/c/"+d.Object+"?sig=x" || d.Bytes != 1234 {
			t.Fatalf("upload %+v for manifest disk %+v", u, d)
		}
	}
	if v := hub.Violations(); len(v) > 0 {
		t.Fatalf("cycle numbering broken: %v", v)
	}
}

// TestDriver_resync_fullCopyWhenTheHubCannotCompare: the hub's full-copy
// answer makes the generation copy every disk and report a base.
func TestDriver_resync_fullCopyWhenTheHubCannotCompare(t *testing.T) {
	drv, sim, ag, _, hub := startResync(t, true)
	vm := newVM(t, sim)
	if err := sim.Client.StartVM(context.Background(), vm.ID); err != nil {
		t.Fatal(err)
	}
	enable(t, drv, vm.ID)
	waitFor(t, drv, vm.ID, "a cycle", func(s replication.State) bool { return s.LastCycle >= 2 })
	if err := drv.Submit(context.Background(), vm.ID, replication.Resync{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, drv, vm.ID, "full resync", func(s replication.State) bool {
		return s.Generation == 2 && s.Phase == replication.PhaseDeltaReplication
	})
	var kinds []replication.ManifestKind
	for _, m := range hub.Manifests(vm.ID) {
		if m.Kind != replication.ManifestDelta {
			kinds = append(kinds, m.Kind)
		}
	}
	ag.mu.Lock()
	uploads := len(ag.uploads)
	ag.mu.Unlock()
	if len(kinds) != 2 || kinds[1] != replication.ManifestBase || uploads != 0 {
		t.Fatalf("manifest kinds %v and %d resync uploads, want two bases and none", kinds, uploads)
	}
}
