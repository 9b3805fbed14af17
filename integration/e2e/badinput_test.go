//go:build integration

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"hvmigrate/integration/cluster"
	"hvmigrate/integration/simhost"
)

// TestE2E_badInputs feeds one running cluster, while two VMs replicate
// under a guest workload, the bad inputs a hub and a host must refuse:
// expired, reused and foreign registration keys, a forged host
// certificate, a truncated VHDX, a corrupted change-tracking log and a
// delta object with a flipped bit in storage. Each must be refused with a
// message that names the problem, and nothing already replicated may be
// harmed: every recovery point still equals the source at its log switch,
// and the VMs hit by a bad input converge again to byte-identical.
func TestE2E_badInputs(t *testing.T) {
	c := cluster.Start(t, cluster.DefaultOptions())
	vms := createVMs(t, c, twoVMs)
	enable(c, vms)
	w := startWorkloads(c, vms, 256<<10)
	t.Cleanup(w.stop)
	waitCycles(t, c, vms, 3, 3*time.Minute)

	var r refusals
	step(t, c, "registrationKeys", func(t *testing.T) { badKeys(t, c, &r) })
	step(t, c, "forgedCertificate", func(t *testing.T) { forgedCertificate(t, c, vms, &r) })
	step(t, c, "truncatedVHDX", func(t *testing.T) { truncatedVHDX(t, c, vms, &r) })
	step(t, c, "corruptHRL", func(t *testing.T) { corruptHRL(t, c, vms, vms[0], &r) })
	step(t, c, "flippedDeltaBit", func(t *testing.T) { flippedDeltaBit(t, c, vms[1], &r) })

	w.stop()
	checkAllPoints(t, c, vms, 3)
	migrate(t, c, vms[0])
	assertNoSecrets(t, c)
	t.Logf("bad inputs refused: %d (%s)", len(r), strings.Join(r, ", "))
}

// refusals names the bad inputs seen refused with a clear message.
type refusals []string

func (r *refusals) add(what string) { *r = append(*r, what) }

// step runs one case as a subtest on the shared cluster, whose helpers
// then fail the subtest rather than its parent.
func step(t *testing.T, c *cluster.Cluster, name string, fn func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(st *testing.T) {
		c.T = st
		defer func() { c.T = t }()
		start := time.Now()
		fn(st)
		st.Logf("%s took %s", name, time.Since(start).Round(100*time.Millisecond))
	})
}

// waitStatus polls `hvmctl status` until its text holds every one of
// want (case-insensitive) and returns that output.
func waitStatus(t *testing.T, c *cluster.Cluster, timeout time.Duration, want ...string) string {
	t.Helper()
	var out string
	c.WaitFor("hvmctl status to say "+strings.Join(want, " … "), timeout, func() bool {
		o, err := c.TryCtl("status")
		if err != nil {
			return false
		}
		out = o
		return containsAll(o, want...)
	})
	return out
}

func containsAll(s string, want ...string) bool {
	s = strings.ToLower(s)
	for _, w := range want {
		if !strings.Contains(s, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

// rowOf returns the line of `hvmctl status` output whose first column is
// the VM's name (a name may also appear inside other rows' messages).
func rowOf(s, name string) string {
	for l := range strings.Lines(s) {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// waitRow waits until the VM's row of `hvmctl status` holds every one of
// want, and returns the row.
func waitRow(t *testing.T, c *cluster.Cluster, timeout time.Duration, name string, want ...string) string {
	t.Helper()
	var row string
	c.WaitFor("hvmctl status of "+name+" to say "+strings.Join(want, " … "), timeout, func() bool {
		o, err := c.TryCtl("status")
		if err != nil {
			return false
		}
		row = rowOf(o, name)
		return containsAll(row, want...)
	})
	return row
}

// lineWith returns the first line of s holding every one of want.
func lineWith(s string, want ...string) string {
	for l := range strings.Lines(s) {
		if containsAll(l, want...) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// hostRow is what must not change in `hvmctl host list` when a
// registration is refused.
type hostRow struct {
	ID         string `json:"id"`
	Hostname   string `json:"hostname"`
	CertSerial string `json:"cert_serial"`
	Revoked    bool   `json:"revoked"`
}

func hosts(c *cluster.Cluster) []hostRow {
	var rows []hostRow
	c.CtlJSON(&rows, "host", "list")
	return rows
}

// badKeys: an expired key, the cluster's own (already used) key and a key
// that pins another hub's CA are each refused with an error that says
// so, and no host appears.
func badKeys(t *testing.T, c *cluster.Cluster, r *refusals) {
	before := hosts(c)
	if len(before) != 1 {
		t.Fatalf("hvmctl host list shows %d hosts before the test, want 1: %+v", len(before), before)
	}
	register := func(key, dir string) string {
		t.Helper()
		out, err := c.Run(c.Bin.Provider, "register", "--key", key, "--dir", filepath.Join(c.Dir, dir))
		if err == nil {
			t.Fatalf("hvm-provider register --key %s succeeded; it must be refused:\n%s", filepath.Base(key), out)
		}
		return strings.TrimSpace(out)
	}
	expired := filepath.Join(c.Dir, "expired.key")
	c.Ctl("key", "create", "--project", "e2e", "--valid", "1s", "--out", expired)
	var kf struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	b, err := os.ReadFile(expired)
	if err != nil || json.Unmarshal(b, &kf) != nil || kf.ExpiresAt.IsZero() {
		t.Fatalf("key file %s: %v", expired, err)
	}
	time.Sleep(time.Until(kf.ExpiresAt) + 1100*time.Millisecond)
	out := register(expired, "id-expired")
	if !containsAll(out, "registration key expired") {
		t.Errorf("an expired key is refused without saying it expired:\n%s", out)
	} else {
		r.add("expired key")
	}
	t.Logf("expired key: %s", lineWith(out, "expired"))

	out = register(c.KeyFile, "id-reused")
	if !containsAll(out, "already used") {
		t.Errorf("a used key is refused without saying it was used:\n%s", out)
	} else {
		r.add("reused key")
	}
	t.Logf("reused key: %s", lineWith(out, "already used"))

	foreign := filepath.Join(c.Dir, "foreign.key")
	c.Ctl("key", "create", "--project", "e2e", "--valid", "1h", "--out", foreign)
	fp, err := cluster.OtherCAFingerprint()
	if err != nil {
		t.Fatal(err)
	}
	editKeyFile(t, foreign, "ca_fingerprint", fp)
	out = register(foreign, "id-foreign")
	if !containsAll(out, "fingerprint does not match") {
		t.Errorf("a key pinning another hub's CA is refused without saying so:\n%s", out)
	} else {
		r.add("key for another hub")
	}
	t.Logf("foreign CA pin: %s", lineWith(out, "fingerprint"))

	if after := hosts(c); !slices.Equal(before, after) {
		t.Errorf("hvmctl host list changed after refused registrations:\nbefore %+v\nafter  %+v", before, after)
	}
	states := keyStates(c)
	for key, want := range map[string]string{expired: "expired", foreign: "unused"} {
		if got := states[keyID(t, key)]; got != want {
			t.Errorf("key %s is %q after its refused registration, want %q", filepath.Base(key), got, want)
		}
	}
}

// keyStates maps every registration key's id to its state.
func keyStates(c *cluster.Cluster) map[string]string {
	var keys []struct{ ID, State string }
	c.CtlJSON(&keys, "key", "list")
	out := map[string]string{}
	for _, k := range keys {
		out[k.ID] = k.State
	}
	return out
}

// keyID reads a key file's key id.
func keyID(t *testing.T, path string) string {
	t.Helper()
	var kf struct {
		KeyID string `json:"key_id"`
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &kf); err != nil || kf.KeyID == "" {
		t.Fatalf("key file %s: no key id: %v", path, err)
	}
	return kf.KeyID
}

// editKeyFile sets one field of a key file.
func editKeyFile(t *testing.T, path, field, value string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m[field] = value
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// forgedCertificate: a provider presenting a certificate with the
// registered host's subject, signed by a rogue CA, is refused by the hub;
// the real host keeps replicating.
func forgedCertificate(t *testing.T, c *cluster.Cluster, vms []simhost.VM, r *refusals) {
	dir, err := c.ForgeIdentity("id-forged")
	if err != nil {
		t.Fatal(err)
	}
	const hubRefusal = "provider connection refused in the TLS handshake"
	hubRefusals, hubLines := c.Hub.CountLog(hubRefusal), c.Hub.CountLog("")
	p := c.Spawn("forged-provider", c.Bin.Provider, "run", "--identity", dir, "--simhost", c.SimSocket(),
		"--agent", filepath.Join(c.Dir, "forged-run", "agent.sock"), "--state", filepath.Join(c.Dir, "forged.db"))
	c.Hub.WaitLog(t, hubRefusal, hubRefusals+1, 30*time.Second)
	hubLine := lineWith(linesFrom(t, c.Hub.LogPath, hubLines), hubRefusal)
	t.Logf("hub: %s", hubLine)
	if !containsAll(hubLine, "failed to verify certificate") {
		t.Errorf("the hub's refusal does not say the certificate failed verification")
	} else {
		r.add("forged host certificate")
	}
	// The provider's first attempt may end in a bare broken pipe (the hub
	// hangs up as the client writes); a later one reads the hub's alert.
	p.WaitLog(t, "remote error: tls:", 1, 30*time.Second)
	p.Stop(5 * time.Second)
	prvLine := lineWith(readFile(t, p.LogPath), "remote error: tls:")
	t.Logf("forged provider: %s", prvLine)
	if !containsAll(prvLine, "certificate") {
		t.Errorf("the forged provider's log does not say its certificate was refused")
	}
	if hs := hosts(c); len(hs) != 1 || hs[0].Revoked {
		t.Errorf("hosts after the forged certificate: %+v", hs)
	}
	waitCycles(t, c, vms, 2, 2*time.Minute)
}

// linesFrom returns a file's lines from the one numbered skip (from 0).
func linesFrom(t *testing.T, path string, skip int) string {
	t.Helper()
	lines := strings.SplitAfter(readFile(t, path), "\n")
	return strings.Join(lines[min(skip, len(lines)):], "")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// truncatedVHDX: enabling replication of a VM whose disk file was cut
// short is refused, or fails with a message naming the disk; the other
// VMs keep replicating.
func truncatedVHDX(t *testing.T, c *cluster.Cluster, vms []simhost.VM, r *refusals) {
	ctx := context.Background()
	vm, err := c.SimClient().CreateVM(ctx, simhost.VMSpec{Name: "broken", Disks: []simhost.DiskSpec{{Size: 16 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if vm, err = c.SimClient().GetVM(ctx, vm.ID); err != nil {
		t.Fatal(err)
	}
	if vm.Power != simhost.PowerOff {
		t.Fatalf("new vm is %s, want off", vm.Power)
	}
	path := vm.Disks[0].Path
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	t.Logf("disk %s truncated from %d to %d bytes", filepath.Base(path), fi.Size(), fi.Size()/2)
	c.WaitFor("the broken vm at the hub", time.Minute, func() bool { return strings.Contains(c.Ctl("vm", "list"), "broken") })
	out, err := c.TryCtl("replicate", "enable", "broken", "--interval", "30s")
	if err != nil {
		t.Logf("hvmctl replicate enable broken refused: %v\n%s", err, out)
	} else {
		out = waitRow(t, c, time.Minute, "broken", "error:")
		t.Logf("hvmctl status: %s", out)
	}
	if !containsAll(out, "disk 0", filepath.Base(path)) || !(containsAll(out, "end of file") || containsAll(out, "truncated")) {
		t.Errorf("the refusal does not name the disk and its truncation:\n%s", out)
	} else {
		r.add("truncated VHDX")
	}
	waitCycles(t, c, vms, 2, 2*time.Minute)
	if out, err := c.TryCtl("replicate", "disable", "broken"); err != nil {
		t.Errorf("hvmctl replicate disable broken: %v\n%s", err, out)
	}
	if err := c.SimClient().DeleteVM(ctx, vm.ID); err != nil {
		t.Logf("delete the broken vm from the simulated host: %v", err)
	}
}

// corruptHRL flips a bit inside the logged data of the VM's open log, so
// the log the next switch closes fails its data checksum. The agent must
// refuse it, the provider resync the VM with a message the operator sees,
// and replication converge: recovery points before and after stay equal
// to the source.
func corruptHRL(t *testing.T, c *cluster.Cluster, vms []simhost.VM, vm simhost.VM, r *refusals) {
	before := c.CheckPoints(vm)
	refusals := c.Prv.CountLog("resync required")
	path, off := corruptOpenLog(t, c, vm)
	t.Logf("flipped bit 0 of byte %d of the open log %s", off, filepath.Base(path))
	c.Prv.WaitLog(t, "resync required", refusals+1, 2*time.Minute)
	line := lineWith(readFile(t, c.Prv.LogPath), "resync required", filepath.Base(path))
	t.Logf("provider: %s", line)
	if !containsAll(line, "checksum") {
		t.Errorf("the provider's resync does not say the log failed its checksum")
	}
	out := waitStatus(t, c, time.Minute, "resync required", "checksum")
	t.Logf("hvmctl status: %s", rowOf(out, vm.Name))
	r.add("corrupt HRL")
	waitCycles(t, c, vms, 3, 3*time.Minute)
	after := c.CheckPoints(vm)
	if after.Checked < before.Checked+2 {
		t.Errorf("vm %s: %d recovery points equal the source before the corrupt log, %d after; want at least 2 more", vm.Name, before.Checked, after.Checked)
	}
}

// corruptOpenLog makes disk 0 of the VM write 1 MiB at once (as large as
// the log writer's buffer, so the simulated host appends it to the open
// log file straight away; the writer never rewrites what it appended),
// flips a bit inside that data, and makes sure the log was still open
// afterwards, so the corruption is in the log the next switch closes.
func corruptOpenLog(t *testing.T, c *cluster.Cluster, vm simhost.VM) (string, int64) {
	t.Helper()
	ctx := context.Background()
	for attempt := range 5 {
		v, err := c.SimClient().GetVM(ctx, vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		path := v.Disks[0].CurrentLog
		if err := c.SimClient().WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Disk: 0, Offset: v.Disks[0].Size / 2,
			Length: 1 << 20, Pattern: 0x5a}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Size() < 4096+4096+(1<<20) {
			t.Logf("attempt %d: log %q: %v", attempt, path, err)
			continue
		}
		off := fi.Size() - 512<<10
		flipFileBit(t, path, off)
		if v, err = c.SimClient().GetVM(ctx, vm.ID); err != nil {
			t.Fatal(err)
		}
		if v.Disks[0].CurrentLog == path {
			return path, off
		}
		t.Logf("attempt %d: log %s was switched while it was corrupted; again", attempt, filepath.Base(path))
	}
	t.Fatalf("vm %s: could not corrupt an open log in 5 attempts", vm.Name)
	return "", 0
}

func flipFileBit(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// flippedDeltaBit: with the hub stopped, the host uploads a cycle; one
// bit of that committed delta object's payload is flipped in storage; the
// restarted hub refuses to apply it, holds the VM with a message naming
// the cycle, leaves the replica and the recovery points as they were, and
// `hvmctl resync` brings the VM back to byte-identical.
func flippedDeltaBit(t *testing.T, c *cluster.Cluster, vm simhost.VM, r *refusals) {
	c.Hub.Stop(10 * time.Second)
	seen, err := c.CycleObjects(vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	var target string
	c.WaitFor("a delta object uploaded while the hub is down", time.Minute, func() bool {
		objs, err := c.CycleObjects(vm.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if !slices.Contains(seen, o) && strings.Contains(o, "/cycle/") {
				target = o
				return true
			}
		}
		return false
	})
	cycle, err := strconv.ParseUint(strings.TrimSuffix(target[strings.LastIndex(target, "/")+1:], ".delta"), 10, 64)
	if err != nil {
		t.Fatalf("delta object %s: %v", target, err)
	}
	// The payload starts after the 512-byte header: this bit is data an
	// extent's CRC-64 covers.
	const off, bit = 600, 3
	size, err := c.FlipBit(target, off, bit)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flipped bit %d of byte %d of %s (cycle %d, %d bytes)", bit, off, target, cycle, size)
	c.StartProc(c.Hub)
	out := waitRow(t, c, time.Minute, vm.Name, "held:")
	t.Logf("hvmctl status: %s", out)
	if !containsAll(out, "delta object invalid", fmt.Sprintf("cycle %d", cycle)) {
		t.Errorf("vm %s is held without naming the invalid object of cycle %d", vm.Name, cycle)
	} else {
		r.add("delta object with a flipped bit")
	}
	time.Sleep(3 * time.Second) // cycles keep coming; none may pass the bad one
	held := c.Status()[vm.Name]
	if held.AppliedCycle != cycle-1 || held.Health != "held" {
		t.Errorf("vm %s: applied cycle %d (%s); want held at %d", vm.Name, held.AppliedCycle, held.Health, cycle-1)
	}
	checked := checkAllPoints(t, c, []simhost.VM{vm}, 1)
	c.Ctl("resync", vm.Name)
	t.Logf("hvmctl resync %s sent; waiting for cycles past %d", vm.Name, cycle)
	c.WaitFor("hvmctl resync to bring vm "+vm.Name+" back past the invalid cycle", 2*time.Minute, func() bool {
		s := c.Status()[vm.Name]
		return s.AppliedCycle >= cycle+3 && s.Health == "ok"
	})
	// The resync's own point is cut at a checkpoint, not a switch, so it
	// has no source checksum; wait for a cycle after it.
	after := 0
	c.WaitFor("a recovery point after the resync that equals the source", 2*time.Minute, func() bool {
		after = c.CheckPoints(vm).Checked
		return after >= checked+1
	})
	t.Logf("vm %s: %d recovery points equal the source after the resync, %d before", vm.Name, after, checked)
}
