package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"hvmigrate/integration/azurite"
	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host/simhost/simhosttest"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/store"
	"hvmigrate/shared/units"
)

// TestRun_hubMode_resumesAfterSIGKILL replicates a three-disk VM under a
// running workload through a real hub and agent while a real hvm-provider
// process is killed with SIGKILL at seeded random moments, during the
// initial copy and during delta cycles. Every restart resumes from the
// provider's store: no disk the store holds as copied is copied again
// (its agent job never runs twice) and the VM never resyncs (a switch
// the killed provider did not hear of is looked up, not repeated). At the
// end the hub's latest recovery point equals, byte for byte, the
// simulated host's disks at that cycle's log switch. After every kill
// during cycles, the only logs left beside the disks are the open ones,
// those of the cycle in flight (which must be there) and those whose
// release the store holds pending.
//
// HVM_TEST_KILLS sets the number of kills (20 by default), HVM_TEST_SEED
// the seed.
func TestRun_hubMode_resumesAfterSIGKILL(t *testing.T) {
	seed, kills := envUint(t, "HVM_TEST_SEED", uint64(time.Now().UnixNano())), int(envUint(t, "HVM_TEST_KILLS", 20))
	t.Logf("seed %d, %d kills (rerun with HVM_TEST_SEED=%d HVM_TEST_KILLS=%d)", seed, kills, seed, kills)
	rng := mrand.New(mrand.NewPCG(seed, 7))
	k := newKillRig(t)
	stopWorkload := k.workload(seed)
	defer stopWorkload()

	p := k.startProvider()
	waitUntil(t, "inventory at the hub", 20*time.Second, func() bool { return strings.Contains(k.hub.ctl("vm", "list"), "killtest") })
	// Slow uploads keep the initial copy long enough for several kills.
	k.throttle(16 * units.Mbps)
	k.hub.ctl("replicate", "enable", "killtest", "--interval", "30s", "--keep-latest", "3", "--keep-window", "0")

	var st replication.State
	copyKills, cycleKills := 0, 0
	for i := range kills {
		d := time.Duration(300+rng.IntN(1200)) * time.Millisecond
		if st.Phase == replication.PhaseDeltaReplication {
			d = time.Duration(500+rng.IntN(3000)) * time.Millisecond
		}
		time.Sleep(d)
		k.sigkill(p)
		prev := st.Phase
		st = k.afterKill(fmt.Sprintf("kill %d", i+1), d)
		if st.Phase == replication.PhaseDeltaReplication && prev != st.Phase {
			k.throttle(units.Unlimited) // cycles at full speed
		}
		if st.Phase == replication.PhaseDeltaReplication || st.Phase == replication.PhaseFailed && st.Failure.From == replication.PhaseDeltaReplication {
			cycleKills++
		} else {
			copyKills++
		}
		p = k.startProvider()
	}
	t.Logf("%d kills during the initial copy, %d during delta cycles", copyKills, cycleKills)
	if kills >= 10 && (copyKills == 0 || cycleKills == 0) {
		t.Fatalf("kills did not spread over copy and cycles (%d and %d): the test exercised one of them only", copyKills, cycleKills)
	}

	// Kill on until one kill finds a cycle in flight with its logs, so that
	// keeping them is checked whatever the seed.
	for extra := 0; k.inFlightSeen == 0; extra++ {
		if extra == 10 {
			t.Fatal("no kill found a cycle in flight with logs: keeping them went unchecked")
		}
		d := time.Duration(500+rng.IntN(1500)) * time.Millisecond
		time.Sleep(d)
		k.sigkill(p)
		st = k.afterKill(fmt.Sprintf("extra kill %d", extra+1), d)
		p = k.startProvider()
	}

	// The last provider runs on: it must take the VM two more cycles on.
	from := k.hub.applied()
	waitUntil(t, "two more cycles applied after the last restart", 60*time.Second, func() bool { return k.hub.applied() >= from+2 })
	stopWorkload()
	k.sigkill(p)
	st = k.afterKill("last kill", 0)
	k.checkReplica(st)
	t.Logf("%d switches made before a kill were looked up after the restart; %d kills found a cycle's logs in flight, %d found logs pending release",
		k.recovered, k.inFlightSeen, k.pendingSeen)
}

// killRig is the world of the kill test: hub, agent, simulated host.
type killRig struct {
	t      *testing.T
	srv    *azurite.Server
	hub    *hubProc
	sim    *simhosttest.Daemon
	vm     simhost.VM
	hostID string
	args   []string
	state  string
	agent  *agentclient.Client
	// copied holds each copied disk's copy job as first seen after a kill.
	copied map[string]agentclient.Job
	// recovered counts switches a restarted provider found made already;
	// inFlightSeen and pendingSeen count kills that left logs of a cycle
	// in flight, and logs pending release.
	recovered, inFlightSeen, pendingSeen int
}

func newKillRig(t *testing.T) *killRig {
	srv := azurite.Start(t)
	k := &killRig{t: t, srv: srv, hub: startHub(t, srv), copied: map[string]agentclient.Job{}}
	idDir, hostID := k.hub.registerHost()
	k.hostID = hostID
	k.sim = simhosttest.Start(t)
	k.vm = createThreeDiskVM(t, k.sim)
	agentSock := startAgent(t, srv)
	var err error
	if k.agent, err = agentclient.Dial(agentSock); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.agent.Close() })
	k.state = filepath.Join(t.TempDir(), "provider.db")
	k.args = []string{"run", "--identity", idDir, "--simhost", k.sim.Socket, "--agent", agentSock, "--state", k.state,
		"--interval-cap", "1s", "--grant-wait", "10s", "--agent-max-backoff", "200ms"}
	return k
}

// createThreeDiskVM makes a running VM with three disks (512 and 4096-byte
// sectors, dynamic and fixed) and some data on each.
func createThreeDiskVM(t *testing.T, sim *simhosttest.Daemon) simhost.VM {
	t.Helper()
	ctx := context.Background()
	vm, err := sim.Client.CreateVM(ctx, simhost.VMSpec{Name: "killtest", Disks: []simhost.DiskSpec{
		{Size: 16 << 20}, {Size: 8 << 20, LogicalSectorSize: 4096}, {Size: 8 << 20, Format: simhost.FormatVHDXFixed}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Client.StartVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	for i := range vm.Disks {
		req := simhost.WriteRequest{VMID: vm.ID, Disk: i, Offset: 1 << 20, Length: 4 << 20, Pattern: byte(0x20 + i)}
		if err := sim.Client.WriteDisk(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	return vm
}

// workload writes to every disk of the VM until stopped; stopping twice
// is fine.
func (k *killRig) workload(seed uint64) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := k.sim.Client.RunWorkload(ctx, simhost.WorkloadSpec{VMID: k.vm.ID, Pattern: simhost.PatternRandom,
			Sizes:           []simhost.IOSize{{Bytes: 4 << 10, Weight: 70}, {Bytes: 64 << 10, Weight: 30}},
			RateBytesPerSec: 256 << 10, Duration: 10 * time.Minute, OverwriteRatio: 0.3, Seed: seed}, nil)
		if err != nil && ctx.Err() == nil {
			k.t.Errorf("workload: %v", err)
		}
	}()
	return func() { cancel(); <-done }
}

// throttle sets the agent's host-wide upload limit around the clock.
func (k *killRig) throttle(bw units.Bandwidth) {
	k.t.Helper()
	_, _, err := k.agent.SetThrottle(context.Background(), agentclient.Throttle{WorkHours: bw, NonWorkHours: bw,
		WorkStart: "09:00", WorkEnd: "17:00", ThreadsPerVM: 4})
	if err != nil {
		k.t.Fatalf("throttle the agent: %v", err)
	}
}

// startProvider runs hvm-provider run in hub mode as a child process.
func (k *killRig) startProvider() *proc {
	return startProc(k.t, "provider", "hub mode", k.args...)
}

// sigkill ends the provider with SIGKILL and waits for it.
func (k *killRig) sigkill(p *proc) {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	k.recovered += strings.Count(p.out.String(), "switch made before the provider stopped")
}

// readState reads the VM's state from the store of the dead provider.
func (k *killRig) readState() replication.State {
	k.t.Helper()
	st, err := store.Open(store.DefaultConfig(k.state))
	if err != nil {
		k.t.Fatal(err)
	}
	defer st.Close()
	s, ok, err := st.Get(k.vm.ID)
	if err != nil {
		k.t.Fatal(err)
	}
	if !ok {
		return replication.State{VMID: k.vm.ID}
	}
	return s
}

// afterKill checks the store and the agent's jobs once a provider died.
// what names the kill in the log.
func (k *killRig) afterKill(what string, after time.Duration) replication.State {
	st := k.readState()
	var copied []string
	for _, d := range st.Disks {
		if d.Copy == replication.DiskCopied {
			copied = append(copied, d.ID[:8])
		}
	}
	k.t.Logf("%s after %s: phase %s, generation %d, last cycle %d, disks copied %v", what, after.Round(time.Millisecond),
		st.Phase, st.Generation, st.LastCycle, copied)
	k.checkCopies(st)
	if st.Phase == replication.PhaseDeltaReplication {
		k.checkLogsReleased(st)
	}
	return st
}

// checkCopies holds the agent's copy jobs to the store: every disk the
// store holds as copied has one succeeded copy job that never ran again,
// and no copy job belongs to a generation the store has not reached.
func (k *killRig) checkCopies(st replication.State) {
	k.t.Helper()
	jobs, err := k.agent.ListJobs(context.Background(), k.vm.ID)
	if err != nil {
		k.t.Fatalf("list the agent's jobs: %v", err)
	}
	byID := map[string]agentclient.Job{}
	for _, j := range jobs {
		if !strings.HasPrefix(j.ID, "copy-") {
			continue
		}
		byID[j.ID] = j
		if !k.knownCopyJob(j.ID, st.Generation) {
			k.t.Fatalf("copy job %s belongs to no generation up to %d", j.ID, st.Generation)
		}
	}
	for id, first := range k.copied {
		j, ok := byID[id]
		switch {
		case !ok:
			k.t.Fatalf("copy job %s of a finished disk is gone from the agent", id)
		case j.State != agentclient.JobSucceeded || !j.Started.Equal(first.Started) || j.BytesSent != first.BytesSent:
			k.t.Fatalf("copy job %s of a finished disk ran again: was %+v, now %+v", id, first, j)
		}
	}
	for _, d := range st.Disks {
		id := replication.CopyJobID(st.VMID, d.ID, st.Generation)
		if d.Copy != replication.DiskCopied {
			continue
		}
		j, ok := byID[id]
		if !ok || j.State != agentclient.JobSucceeded {
			k.t.Fatalf("store holds disk %s as copied, the agent's job %s is %+v (found %v)", d.ID, id, j, ok)
		}
		if _, seen := k.copied[id]; !seen {
			k.copied[id] = j
		}
	}
}

// knownCopyJob reports whether id is the copy job of one of the VM's
// disks in a generation up to gen.
func (k *killRig) knownCopyJob(id string, gen uint64) bool {
	for g := uint64(1); g <= gen; g++ {
		for _, d := range k.vm.Disks {
			if id == replication.CopyJobID(k.vm.ID, d.ID, g) {
				return true
			}
		}
	}
	return false
}

// checkReplica compares every disk of the hub's latest recovery point
// with the simulated host's checksums at that cycle's log switch.
func (k *killRig) checkReplica(st replication.State) {
	t := k.t
	if st.Generation != 1 {
		t.Fatalf("the provider resynced (generation %d, %s): finished disks were copied again", st.Generation, st.ResyncReason)
	}
	last := k.hub.applied()
	if last <= st.BaseCycle {
		t.Fatalf("the hub applied up to cycle %d, not past the base cycle %d of generation %d", last, st.BaseCycle, st.Generation)
	}
	offset := st.HostSwitch - st.LastCycle
	if c := st.InFlight; c != nil && c.HostSwitch != 0 {
		offset = c.HostSwitch - c.Number
	}
	want, err := k.sim.Client.GetSwitchChecksums(context.Background(), k.vm.ID, last+offset)
	if err != nil {
		t.Fatal(err)
	}
	got := pointChecksums(t, k.hub, k.srv, k.vm, last, want)
	for _, w := range want {
		if got[w.DiskID] != w.SHA256 {
			t.Errorf("disk %s: recovery point of cycle %d has sha256 %s; the source at switch %d has %s",
				w.DiskID, last, got[w.DiskID], last+offset, w.SHA256)
		}
	}
	t.Logf("recovery point of cycle %d matches the source's %d disks at host switch %d", last, len(want), last+offset)
}

// checkLogsReleased checks that every log a switch of a reported cycle
// handed out is gone, unless the store still holds its release pending,
// and that the logs of the cycle in flight (including those of a switch
// the provider had not heard of) are all there. Logs no switch handed out
// yet (the open ones, and those closed by the checkpoint's merge) stay.
func (k *killRig) checkLogsReleased(st replication.State) {
	t := k.t
	keep := map[string]bool{}
	for _, p := range st.ReleasePending {
		keep[p] = true
	}
	var inFlight []string
	if c := st.InFlight; c != nil {
		for _, d := range c.Disks {
			inFlight = append(inFlight, d.Logs...)
		}
		if c.Stage == replication.CycleSwitching {
			inFlight = append(inFlight, k.unheardSwitch(st)...)
		}
	}
	for _, p := range inFlight {
		keep[p] = true
		if _, err := os.Stat(p); err != nil {
			t.Errorf("log %s of cycle %d in flight is gone: %v", p, st.InFlight.Number, err)
		}
	}
	released := 0
	for n := uint64(1); n <= st.HostSwitch; n++ {
		sw, err := k.sim.Client.GetSwitch(context.Background(), k.vm.ID, n)
		if err != nil {
			t.Fatalf("switch %d: %v", n, err)
		}
		for _, d := range sw.Disks {
			for _, p := range d.ClosedLogs {
				if keep[p] {
					continue
				}
				released++
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("log %s of host switch %d is left although its cycle was reported (last cycle %d): %v", p, n, st.LastCycle, err)
				}
			}
		}
	}
	if len(inFlight) > 0 {
		k.inFlightSeen++
	}
	if len(st.ReleasePending) > 0 {
		k.pendingSeen++
	}
	t.Logf("after %d cycles: %d logs of reported cycles released, %d of the cycle in flight kept, %d pending release",
		st.LastCycle, released, len(inFlight), len(st.ReleasePending))
}

// unheardSwitch returns the logs of the switch a provider killed while
// switching may have made without hearing of it: the next one looks them
// up, so they must be kept.
func (k *killRig) unheardSwitch(st replication.State) []string {
	sw, err := k.sim.Client.GetSwitch(context.Background(), k.vm.ID, st.HostSwitch+1)
	if errors.Is(err, simhost.ErrNotFound) {
		return nil
	}
	if err != nil {
		k.t.Fatal(err)
	}
	var out []string
	for _, d := range sw.Disks {
		out = append(out, d.ClosedLogs...)
	}
	k.t.Logf("the host made switch %d before the kill; the provider had not heard of it", sw.Number)
	return out
}

// recoveryPoint is a recovery point as hvmctl lists it.
type recoveryPoint struct {
	ID    uint64 `json:"id"`
	Disks []struct {
		DiskID   string `json:"disk_id"`
		Snapshot string `json:"snapshot"`
	} `json:"disks"`
}

// pointChecksums reads every disk of the hub's recovery point of a cycle
// and returns their SHA-256 by disk id.
func pointChecksums(t *testing.T, hub *hubProc, srv *azurite.Server, vm simhost.VM, cycle uint64, want []simhost.DiskChecksum) map[string]string {
	t.Helper()
	var points []recoveryPoint
	decode(t, hub.ctl("recovery-points", "list", vm.Name, "-o", "json"), &points)
	i := slices.IndexFunc(points, func(p recoveryPoint) bool { return p.ID == cycle })
	if i < 0 {
		t.Fatalf("no recovery point of cycle %d among %+v", cycle, points)
	}
	var projects []struct{ ID string }
	decode(t, hub.ctl("project", "list", "-o", "json"), &projects)
	admin, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range points[i].Disks {
		j := slices.IndexFunc(want, func(w simhost.DiskChecksum) bool { return w.DiskID == d.DiskID })
		if j < 0 {
			t.Fatalf("recovery point %d has disk %s the source does not have", cycle, d.DiskID)
		}
		name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexID(t, vm.ID), hexID(t, d.DiskID))
		bc, err := admin.ServiceClient().NewContainerClient("rep-" + projects[0].ID).NewBlobClient(name).WithSnapshot(d.Snapshot)
		if err != nil {
			t.Fatal(err)
		}
		r, err := bc.DownloadStream(context.Background(), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: want[j].Size}})
		if err != nil {
			t.Fatalf("read recovery point %d of disk %s: %v", cycle, d.DiskID, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		r.Body.Close()
		if err != nil || n != want[j].Size {
			t.Fatalf("read recovery point %d of disk %s: %d bytes, %v", cycle, d.DiskID, n, err)
		}
		out[d.DiskID] = hex.EncodeToString(h.Sum(nil))
	}
	if len(out) != len(want) {
		t.Fatalf("recovery point %d has %d disks, the source %d", cycle, len(out), len(want))
	}
	return out
}

func envUint(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}
