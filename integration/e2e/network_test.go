//go:build integration

package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"hvmigrate/integration/cluster"
	"hvmigrate/integration/simhost"
)

// recoveryDeadline is how long, once a fault is removed, every VM has to
// get one more cycle applied at the hub: the "nothing hangs past its
// deadline" bound of the network suite. It follows from the designed
// waits: a storage client backs off up to a minute between tries
// (shared/backoff), and a VM whose transfer gave up retries a minute
// later (the provider's first failure backoff); add a cycle.
const recoveryDeadline = 75 * time.Second

// netVMs is the network suite's host: small disks, so that checking
// every recovery point stays cheap while cycles run every few seconds.
var netVMs = []vmSpec{{"app", []int64{24 << 20, 16 << 20}}, {"db", []int64{16 << 20}}}

// netPhase is one fault on one link for a while.
type netPhase struct {
	link  string // "storage" (agent and hub to storage) or "hub" (provider to hub)
	hold  time.Duration
	fault cluster.Fault
	// notice lists what each side must have logged during the hold: a
	// stream that carries nothing is dead past its deadline, and both
	// ends must see it.
	notice []notice
}

// notice is a log line a program must write (again) during a phase.
type notice struct {
	proc func(*cluster.Cluster) *cluster.Proc
	line string
}

var (
	providerLostHub = notice{func(c *cluster.Cluster) *cluster.Proc { return c.Prv }, "lost the hub; reconnecting"}
	hubEndedStream  = notice{func(c *cluster.Cluster) *cluster.Proc { return c.Hub }, "host disconnected"}
	agentFailedPut  = notice{func(c *cluster.Cluster) *cluster.Proc { return c.Agent }, "storage request failed"}
)

// attrs builds toxic attributes from key, value pairs.
func attrs(kv ...any) toxiclient.Attributes {
	a := toxiclient.Attributes{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1]
	}
	return a
}

// netPhases is the fault sequence: on each link, a slow link (latency
// with jitter, then a narrow one), bytes trickling in tiny segments,
// connections reset, connections closed after a few KiB, a half-open
// link (the proxy swallows every byte and keeps the connection open),
// data dropped then the connection closed, and the link down.
func netPhases() []netPhase {
	var out []netPhase
	for _, link := range []string{"storage", "hub"} {
		bw, limit := 256, 64<<10 // KB/s, bytes
		// Faults that break requests or streams must be met: a phase
		// nothing noticed would prove nothing. On the storage link the
		// agent's uploads fail and are retried; on the hub link the
		// provider loses the stream, and with the link silent or down
		// the hub ends the stream too (heartbeats every 500 ms, dead
		// after three missed beats at the provider and 4 s at the hub,
		// well within the hold).
		broken := []notice{agentFailedPut}
		limited, silent, down := broken, []notice(nil), broken
		if link == "hub" {
			bw, limit = 16, 8<<10 // the stream carries small messages
			broken = []notice{providerLostHub}
			limited = nil // the stream may not carry 8 KiB within the hold
			silent = []notice{providerLostHub, hubEndedStream}
			down = silent
		}
		out = append(out,
			netPhase{link, 6 * time.Second, cluster.Fault{Name: "latency", Toxics: []cluster.Toxic{
				{Type: "latency", Attrs: attrs("latency", 300, "jitter", 250)}}}, nil},
			netPhase{link, 8 * time.Second, cluster.Fault{Name: "bandwidth", Toxics: []cluster.Toxic{
				{Type: "bandwidth", Attrs: attrs("rate", bw)}}}, nil},
			netPhase{link, 5 * time.Second, cluster.Fault{Name: "slicer", Toxics: []cluster.Toxic{
				{Type: "slicer", Attrs: attrs("average_size", 64, "size_variation", 48, "delay", 200)}}}, nil},
			netPhase{link, 6 * time.Second, cluster.Fault{Name: "reset-peer", Toxics: []cluster.Toxic{
				{Type: "reset_peer", Stream: "upstream", Attrs: attrs("timeout", 300)}}}, broken},
			netPhase{link, 6 * time.Second, cluster.Fault{Name: "limit-data", Toxics: []cluster.Toxic{
				{Type: "limit_data", Stream: "upstream", Attrs: attrs("bytes", limit)}}}, limited},
			netPhase{link, 10 * time.Second, cluster.Fault{Name: "half-open", Toxics: []cluster.Toxic{
				{Type: "timeout", Attrs: attrs("timeout", 0)}}}, silent},
			netPhase{link, 6 * time.Second, cluster.Fault{Name: "timeout", Toxics: []cluster.Toxic{
				{Type: "timeout", Stream: "downstream", Attrs: attrs("timeout", 2000)}}}, broken},
			netPhase{link, 12 * time.Second, cluster.Fault{Name: "down", Cut: true}, down},
		)
	}
	return out
}

// TestE2E_networkFaults: toxiproxy sits between storage and its clients
// (agent and hub) and between provider and hub. While two VMs replicate
// under a guest workload, each link goes through a sequence of faults;
// after each one is removed, every VM must get another cycle applied
// within recoveryDeadline (each phase's recovery time is logged). At the
// end every recovery point equals the source at its log switch, a
// migration is byte-identical, and no log holds a secret.
func TestE2E_networkFaults(t *testing.T) {
	opts := cluster.DefaultOptions()
	opts.HubProxy, opts.StorageProxy = true, true
	// The first cycles meet the initial copy and the checkpoint merge: keep
	// what a difference there needs to be localised.
	opts.KeepSwitchLogs = 3
	c := cluster.Start(t, opts)
	vms := createVMs(t, c, netVMs)
	enable(c, vms)
	w := startWorkloads(c, vms, 128<<10)
	defer w.stop()
	waitCycles(t, c, vms, 2, 3*time.Minute)

	proxies := map[string]*toxiclient.Proxy{"storage": c.StorageProxy, "hub": c.HubProxy}
	phases := netPhases()
	start := time.Now()
	var report []string
	toxics := 0
	var worst time.Duration
	for i, ph := range phases {
		px := proxies[ph.link]
		before := applied(c, vms)
		noticed := make([]int, len(ph.notice))
		for j, n := range ph.notice {
			noticed[j] = n.proc(c).CountLog(n.line)
		}
		in, err := cluster.Inject(px, ph.fault)
		if err != nil {
			t.Fatalf("phase %d: %v", i+1, err)
		}
		toxics += in.Toxics
		t.Logf("phase %d/%d: %s link: %s for %s", i+1, len(phases), ph.link, ph.fault, ph.hold)
		time.Sleep(ph.hold)
		requireAlive(t, c, fmt.Sprintf("during %s on the %s link", ph.fault.Name, ph.link))
		during := applied(c, vms)
		for j, n := range ph.notice {
			if p := n.proc(c); p.CountLog(n.line) == noticed[j] {
				t.Fatalf("phase %d: %s on the %s link for %s, and %s never logged %q", i+1, ph.fault.Name, ph.link, ph.hold, p.Name, n.line)
			}
		}
		if err := in.Clear(); err != nil {
			t.Fatalf("phase %d: %v", i+1, err)
		}
		if left, err := cluster.ActiveToxics(px); err != nil || len(left) > 0 {
			t.Fatalf("phase %d: toxics left on the %s link: %v %v", i+1, ph.link, left, err)
		}
		took := waitProgress(t, c, vms, during, recoveryDeadline,
			fmt.Sprintf("progress after %s on the %s link was removed", ph.fault.Name, ph.link))
		worst = max(worst, took)
		line := fmt.Sprintf("%-7s %-10s held %4.0fs  cycles applied during %-9s  recovered in %4.1fs",
			ph.link, ph.fault.Name, ph.hold.Seconds(), cyclesBetween(before, during), took.Seconds())
		report = append(report, line)
		t.Logf("phase %d/%d: %s", i+1, len(phases), line)
	}
	w.stop()
	waitCycles(t, c, vms, 1, 2*time.Minute)
	t.Logf("fault phases done in %s; recovery times (deadline %s, worst %.1fs):\n  %s",
		time.Since(start).Round(time.Second), recoveryDeadline, worst.Seconds(), strings.Join(report, "\n  "))
	t.Logf("agent: %d storage requests failed and retried; provider: %d hub reconnects, %d failed actions, %d resyncs; "+
		"hub: %d silent streams dropped, %d apply passes failed, %d cycles applied",
		c.Agent.CountLog("storage request failed"), c.Prv.CountLog("lost the hub; reconnecting"), c.Prv.CountLog("action failed"),
		c.Prv.CountLog("resync required"), c.Hub.CountLog("host went silent"), c.Hub.CountLog("apply pass failed"),
		len(c.Hub.Lines("hvm-hub.replication: cycle applied")))

	checked := checkAllPoints(t, c, vms, 5)
	migrate(t, c, vms[0])
	assertNoSecrets(t, c)
	t.Logf("faults survived: %d (%d toxics and %d link cuts over 2 links); %d recovery points byte-identical; migration byte-identical",
		len(phases), toxics, cuts(phases), checked)
}

// applied is every VM's applied cycle at the hub.
func applied(c *cluster.Cluster, vms []simhost.VM) map[string]uint64 {
	c.T.Helper()
	st := c.Status()
	out := map[string]uint64{}
	for _, vm := range vms {
		out[vm.Name] = st[vm.Name].AppliedCycle
	}
	return out
}

// waitProgress waits until every VM's applied cycle passed its value in
// from, and returns how long that took; past timeout the test fails.
func waitProgress(t *testing.T, c *cluster.Cluster, vms []simhost.VM, from map[string]uint64, timeout time.Duration, what string) time.Duration {
	t.Helper()
	start := time.Now()
	c.WaitFor(what, timeout, func() bool {
		now := applied(c, vms)
		for _, vm := range vms {
			if now[vm.Name] <= from[vm.Name] {
				return false
			}
		}
		return true
	})
	return time.Since(start)
}

// requireAlive fails the test when a process of the cluster has exited.
func requireAlive(t *testing.T, c *cluster.Cluster, when string) {
	t.Helper()
	for _, p := range []*cluster.Proc{c.Hub, c.Prv, c.Agent, c.Simhost} {
		if p.Exited() {
			t.Fatalf("%s exited %s; see %s", p.Name, when, p.LogPath)
		}
	}
}

// cyclesBetween describes how many cycles each VM got applied.
func cyclesBetween(a, b map[string]uint64) string {
	var parts []string
	for name, n := range a {
		parts = append(parts, fmt.Sprintf("%s+%d", name, b[name]-n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func cuts(phases []netPhase) int {
	n := 0
	for _, p := range phases {
		if p.fault.Cut {
			n++
		}
	}
	return n
}
