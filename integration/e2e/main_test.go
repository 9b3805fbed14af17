//go:build integration

// Package e2e holds the end-to-end suites: the whole system as real
// processes (hvm-hub, hvm-provider, hvm-agent, hvm-simhost, the storage
// emulator over HTTPS, toxiproxy), run with `make integration` (part of
// `make test`). They are behind the integration build tag because each
// takes minutes.
package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"hvmigrate/integration/cluster"
	"hvmigrate/integration/simhost"
)

func TestMain(m *testing.M) {
	code := m.Run()
	cluster.Cleanup()
	os.Exit(code)
}

// envInt reads a tuning knob from the environment.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// long reports whether the long mode (LONG=1) was asked for.
func long() bool { return os.Getenv("LONG") == "1" }

// vmSpec is a VM the suites create: name and disk sizes.
type vmSpec struct {
	name  string
	disks []int64
}

// twoVMs is the suites' usual host: a 2-disk and a 1-disk VM.
var twoVMs = []vmSpec{{"app", []int64{48 << 20, 24 << 20}}, {"db", []int64{32 << 20}}}

// createVMs creates, starts and fills the VMs, and waits until the hub
// lists them.
func createVMs(t *testing.T, c *cluster.Cluster, specs []vmSpec) []simhost.VM {
	t.Helper()
	ctx := context.Background()
	var vms []simhost.VM
	for _, s := range specs {
		spec := simhost.VMSpec{Name: s.name}
		for _, size := range s.disks {
			spec.Disks = append(spec.Disks, simhost.DiskSpec{Size: size})
		}
		vm, err := c.Sim.CreateVM(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Sim.StartVM(ctx, vm.ID); err != nil {
			t.Fatal(err)
		}
		for i, size := range s.disks {
			if err := c.Sim.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Disk: i, Offset: size / 4, Length: size / 8, Pattern: byte(0x40 + i)}); err != nil {
				t.Fatal(err)
			}
		}
		vms = append(vms, vm)
	}
	c.WaitFor("the host's VMs at the hub", time.Minute, func() bool {
		out := c.Ctl("vm", "list")
		for _, s := range specs {
			if !strings.Contains(out, s.name) {
				return false
			}
		}
		return true
	})
	return vms
}

// enable turns replication on for every VM, keeping every recovery point.
func enable(c *cluster.Cluster, vms []simhost.VM) {
	for _, vm := range vms {
		c.Ctl("replicate", "enable", vm.Name, "--interval", "30s", "--keep-latest", "1000", "--keep-window", "0")
	}
}

// workloads runs guest writes on the VMs until stopped, restarting them
// when the simulated host comes back from a kill (the VM is started again
// if the crash left it off).
type workloads struct {
	c      *cluster.Cluster
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startWorkloads(c *cluster.Cluster, vms []simhost.VM, rate int64) *workloads {
	ctx, cancel := context.WithCancel(context.Background())
	w := &workloads{c: c, cancel: cancel}
	for i, vm := range vms {
		w.wg.Go(func() {
			for seed := uint64(i*1000 + 1); ctx.Err() == nil; seed++ {
				sim := c.SimClient()
				if sim == nil || !c.Simhost.Running() {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				if v, err := sim.GetVM(ctx, vm.ID); err == nil && v.Power != simhost.PowerRunning {
					sim.StartVM(ctx, vm.ID)
				}
				sim.RunWorkload(ctx, simhost.WorkloadSpec{VMID: vm.ID, Pattern: simhost.PatternRandom,
					Sizes: []simhost.IOSize{{Bytes: 4 << 10, Weight: 3}, {Bytes: 64 << 10, Weight: 1}}, RateBytesPerSec: rate,
					Duration: time.Hour, OverwriteRatio: 0.3, Seed: seed}, nil)
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
	return w
}

func (w *workloads) stop() { w.cancel(); w.wg.Wait() }

// waitCycles waits until every VM's applied cycle reached at least n
// beyond from.
func waitCycles(t *testing.T, c *cluster.Cluster, vms []simhost.VM, n uint64, timeout time.Duration) map[string]uint64 {
	t.Helper()
	start := map[string]uint64{}
	st := c.Status()
	for _, vm := range vms {
		start[vm.Name] = st[vm.Name].AppliedCycle
	}
	c.WaitFor(fmt.Sprintf("%d more cycles of every vm", n), timeout, func() bool {
		st := c.Status()
		for _, vm := range vms {
			if st[vm.Name].AppliedCycle < start[vm.Name]+n {
				return false
			}
		}
		return true
	})
	return start
}

// checkAllPoints compares every recovery point of every VM with the
// source at its log switch and returns how many were checked.
func checkAllPoints(t *testing.T, c *cluster.Cluster, vms []simhost.VM, atLeast int) int {
	t.Helper()
	total := 0
	for _, vm := range vms {
		res := c.CheckPoints(vm)
		t.Logf("vm %s: %d recovery points equal the source at their log switch; not comparable: %v", vm.Name, res.Checked, res.Unknown)
		if res.Checked < atLeast {
			t.Fatalf("vm %s: only %d recovery points could be checked, want at least %d", vm.Name, res.Checked, atLeast)
		}
		total += res.Checked
	}
	return total
}

// migrate cuts a VM over with hvmctl and checks the migrated disks equal
// the stopped source byte for byte.
func migrate(t *testing.T, c *cluster.Cluster, vm simhost.VM) {
	t.Helper()
	var m struct {
		Step       string   `json:"step"`
		FinalCycle uint64   `json:"final_cycle"`
		Blobs      []string `json:"blobs"`
		Message    string   `json:"message"`
	}
	c.CtlJSON(&m, "migrate", vm.Name, "--timeout", "5m")
	if m.Step != "done" {
		t.Fatalf("migration of %s ended at step %q: %s", vm.Name, m.Step, m.Message)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sums, err := c.Sim.ChecksumDisks(ctx, vm.ID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range sums {
		d, err := hexOf(s.DiskID)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range m.Blobs {
			if !strings.HasSuffix(b, "/disk-"+d+".vhd") {
				continue
			}
			got, err := c.BlobSHA256(b, "", s.Size)
			if err != nil {
				t.Fatal(err)
			}
			if got != s.SHA256 {
				t.Fatalf("migrated disk %s of %s: sha256 %s, the stopped source has %s", s.DiskID, vm.Name, got, s.SHA256)
			}
			checked++
		}
	}
	if checked != len(sums) {
		t.Fatalf("migrated %d of %d disks of %s (blobs %v)", checked, len(sums), vm.Name, m.Blobs)
	}
	t.Logf("vm %s migrated at cycle %d: %d disks byte-identical to the stopped source", vm.Name, m.FinalCycle, checked)
}

func hexOf(id string) (string, error) {
	name, err := cluster.ReplicaBlob(id, id)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(strings.TrimPrefix(name[strings.LastIndex(name, "/"):], "/"), ".vhd"), nil
}
