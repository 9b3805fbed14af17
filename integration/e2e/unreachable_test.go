//go:build integration

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"hvmigrate/integration/cluster"
	"hvmigrate/integration/simhost"
)

// TestE2E_hubUnreachableForcesResync: the hub link is cut while two VMs
// replicate. A cycle counts as reported only once the hub acknowledged
// its manifest, so the host's cycles stop, and the "churn" VM's guest
// rewrites one region of a disk until that disk's pending logs pass half
// its size (the provider's resync limit). When the link comes back the
// provider resyncs the churn VM (and only it), sending only the chunks
// that differ from the replica; replication converges, the recovery
// points after the resync equal the source, and a migration is
// byte-identical.
func TestE2E_hubUnreachableForcesResync(t *testing.T) {
	const (
		diskSize = 16 << 20
		region   = 1 << 20 // the rewritten region
		rewrites = 12      // 12 MiB of logs: 75% of the disk
	)
	opts := cluster.DefaultOptions()
	opts.HubProxy = true
	c := cluster.Start(t, opts)
	vms := createVMs(t, c, []vmSpec{{"churn", []int64{diskSize, diskSize}}, {"quiet", []int64{8 << 20}}})
	churn, quiet := vms[0], vms[1]
	enable(c, vms)
	w := startWorkloads(c, vms, 32<<10)
	defer func() { w.stop() }()
	waitCycles(t, c, vms, 2, 3*time.Minute)

	cut := time.Now()
	link, err := cluster.Inject(c.HubProxy, cluster.Fault{Name: "hub-unreachable", Cut: true})
	if err != nil {
		t.Fatal(err)
	}
	defer link.Clear()
	// A cycle is reported only once the hub acknowledged its manifest, and
	// the next switch waits for that: with the hub cut, the churn VM's
	// switches stop, and every write from now on piles up in the logs the
	// next switch will close.
	late := waitSwitchesStall(t, c, churn, 3*opts.IntervalCap, time.Minute)
	stalledAt := time.Now()
	switches := len(c.Simhost.Lines("logs switched", churn.ID))
	t.Logf("hub cut; the churn VM's switches stopped at %d (%d after the cut), no switch for %s", switches, late, 3*opts.IntervalCap)
	w.stop()
	ctx := context.Background()
	for i := range rewrites {
		err := c.Sim.WriteDisk(ctx, simhost.WriteRequest{VMID: churn.ID, Disk: 0, Offset: 4 << 20, Length: region, Pattern: byte(0x80 + i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(10 * time.Second) // the hub stays away past the limit a while longer
	if n := len(c.Simhost.Lines("logs switched", churn.ID)); n != switches {
		t.Fatalf("the churn VM switched its logs (%d switches, %d before) while the hub was cut: the rewrites may not be pending", n, switches)
	}
	if n := len(c.Prv.Lines("resync required")); n != 0 {
		t.Fatalf("a VM resynced while the hub was cut: %v", c.Prv.Lines("resync required"))
	}
	if err := link.Clear(); err != nil {
		t.Fatal(err)
	}
	restored := time.Now()
	t.Logf("hub link restored after %s; the churn VM's disk 0 took %d MiB of rewrites since its last cycle",
		restored.Sub(cut).Round(time.Second), rewrites*region>>20)

	// The stalled cycle completes, the next switch finds the logs past the
	// limit: the VM resyncs.
	req := waitLines(t, c.Prv, 4*time.Minute, churn.ID, "resync required", "pending logs of disk")
	detected := time.Now()
	t.Logf("provider: %s", strings.TrimSpace(req[0][strings.Index(req[0], "resync required"):]))
	t.Logf("hub status at the resync: %+v", c.Status()[churn.Name])
	w = startWorkloads(c, vms, 32<<10)

	// The resync's manifest reaches the hub and replication carries on.
	var resyncCycle uint64
	c.WaitFor("the churn VM's resync manifest", 3*time.Minute, func() bool {
		for n, m := range c.Manifests(churn.ID) {
			if m.Kind == "resync" {
				resyncCycle = n
				return true
			}
		}
		return false
	})
	c.WaitFor("three cycles applied after the resync", 3*time.Minute, func() bool {
		return c.Applied(churn.Name) >= resyncCycle+3
	})
	converged := time.Now()
	waitCycles(t, c, []simhost.VM{quiet}, 1, 2*time.Minute)
	w.stop()
	waitCycles(t, c, vms, 1, 2*time.Minute)
	t.Logf("timeline: cut 0s, switches seen stalled %s, link back %s, resync required %s, resync cycle %d applied and 3 more by %s",
		stalledAt.Sub(cut).Round(time.Second), restored.Sub(cut).Round(time.Second),
		detected.Sub(cut).Round(time.Second), resyncCycle, converged.Sub(cut).Round(time.Second))

	if got := c.Prv.Lines("resync required", quiet.ID); len(got) != 0 {
		t.Fatalf("the quiet VM, within its log limit, resynced too: %v", got)
	}
	if got := c.Prv.Lines("resync required", churn.ID); len(got) != 1 {
		t.Fatalf("the churn VM resynced %d times, want once: %v", len(got), got)
	}

	// The resync sent only what differs: the rewritten region and the
	// guest's last writes, not the disks. The agent compresses what it
	// sends, so the bytes on the wire are fewer than the differing bytes.
	resynced := c.Prv.Lines("disk resynced", churn.ID)
	if len(resynced) != 2 {
		t.Fatalf("provider resynced %d disks of the churn VM, want 2: %v", len(resynced), resynced)
	}
	var differing, sent int64
	for _, l := range resynced {
		d, s := cluster.LogInt(l, "bytes_differing"), cluster.LogInt(l, "bytes_sent")
		if d < 0 || s < 0 {
			t.Fatalf("no bytes_differing or bytes_sent in %q", l)
		}
		differing, sent = differing+d, sent+s
	}
	var compared int64
	for _, l := range c.Hub.Lines("resync compared", churn.ID) {
		compared += max(cluster.LogInt(l, "differing_bytes"), 0)
	}
	full := int64(2 * diskSize)
	t.Logf("resync: %d bytes differing (the hub's comparison: %d), %d bytes sent, of %d for a full copy: %.1f%% differing, %.2f%% sent",
		differing, compared, sent, full, 100*float64(differing)/float64(full), 100*float64(sent)/float64(full))
	if differing < region {
		t.Fatalf("resync sent %d differing bytes, fewer than the %d-byte region rewritten after the last cycle", differing, region)
	}
	if differing > full/4 {
		t.Fatalf("resync sent %d differing bytes, more than a quarter of a full copy (%d)", differing, full)
	}

	checkAllPoints(t, c, vms, 3)
	after := pointsAfter(c, churn, resyncCycle)
	if after < 3 {
		t.Fatalf("only %d recovery points of the churn VM after its resync (cycle %d) were compared with the source", after, resyncCycle)
	}
	t.Logf("vm churn: %d recovery points after the resync equal the source", after)
	migrate(t, c, churn)
	assertNoSecrets(t, c)
}

// waitSwitchesStall waits until the VM's log switches on the simulated
// host stopped for quiet (a few cycle intervals) and returns how many
// switches it saw meanwhile.
func waitSwitchesStall(t *testing.T, c *cluster.Cluster, vm simhost.VM, quiet, timeout time.Duration) int {
	t.Helper()
	start := time.Now()
	first := len(c.Simhost.Lines("logs switched", vm.ID))
	last, n := start, first
	for time.Since(last) < quiet {
		if time.Since(start) > timeout {
			t.Fatalf("vm %s kept switching its logs for %s with the hub cut", vm.Name, timeout)
		}
		time.Sleep(250 * time.Millisecond)
		if m := len(c.Simhost.Lines("logs switched", vm.ID)); m != n {
			last, n = time.Now(), m
		}
	}
	return n - first
}

// waitLines waits until the program's log holds a line containing every
// one of substrs and returns the matching lines.
func waitLines(t *testing.T, p *cluster.Proc, timeout time.Duration, substrs ...string) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if lines := p.Lines(substrs...); len(lines) > 0 {
			return lines
		}
		if p.Exited() {
			t.Fatalf("%s exited while waiting for %q; see %s", p.Name, substrs, p.LogPath)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no line with %q within %s; see %s", p.Name, substrs, timeout, p.LogPath)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// pointsAfter counts the VM's recovery points of delta cycles after
// cycle whose source instant is known: CheckPoints compared each of them
// with the source.
func pointsAfter(c *cluster.Cluster, vm simhost.VM, cycle uint64) int {
	manifests := c.Manifests(vm.ID)
	n := 0
	for _, p := range c.Points(vm.Name) {
		m, ok := manifests[p.ID]
		if ok && p.ID > cycle && m.HostSwitch != 0 && m.Kind == "delta" {
			n++
		}
	}
	return n
}
