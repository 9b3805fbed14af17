//go:build integration

package e2e

import (
	"math/rand/v2"
	"testing"
	"time"

	"hvmigrate/integration/cluster"
)

// TestE2E_sigkillEveryProcess kills the hub, the provider, the agent and
// the simulated host with SIGKILL at seeded random moments, from the
// initial copy on, and restarts each: replication converges, every
// recovery point that can be compared equals the source at its log
// switch, and a final migration is byte-identical. HVM_E2E_KILLS sets
// the number of kills (30 by default, 300 with LONG=1) and HVM_E2E_SEED
// the seed.
func TestE2E_sigkillEveryProcess(t *testing.T) {
	kills := envInt(t, "HVM_E2E_KILLS", 30)
	if long() {
		kills = envInt(t, "HVM_E2E_KILLS", 300)
	}
	seed := uint64(envInt(t, "HVM_E2E_SEED", int(time.Now().UnixNano()%1_000_000)))
	t.Logf("seed %d (HVM_E2E_SEED=%d reproduces the kill schedule), %d kills", seed, seed, kills)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	c := cluster.Start(t, cluster.DefaultOptions())
	vms := createVMs(t, c, twoVMs)
	enable(c, vms)
	w := startWorkloads(c, vms, 256<<10)
	defer w.stop()

	victims := []*cluster.Proc{c.Hub, c.Prv, c.Agent, c.Simhost}
	count := map[string]int{}
	started := time.Now()
	for i := range kills {
		time.Sleep(time.Duration(300+rng.IntN(2200)) * time.Millisecond)
		p := victims[rng.IntN(len(victims))]
		p.Kill()
		count[p.Name]++
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		c.StartProc(p)
		if (i+1)%10 == 0 {
			st := c.Status()
			t.Logf("%d kills in %s: %v; applied app=%d db=%d", i+1, time.Since(started).Round(time.Second), count,
				st["app"].AppliedCycle, st["db"].AppliedCycle)
		}
	}
	t.Logf("kills survived: %d (%v) in %s", kills, count, time.Since(started).Round(time.Second))
	for _, v := range victims {
		if count[v.Name] == 0 {
			t.Errorf("the schedule never killed %s; raise HVM_E2E_KILLS or change the seed", v.Name)
		}
	}

	// Converge: every VM replicating with healthy cycles after the kills.
	waitCycles(t, c, vms, 3, 4*time.Minute)
	w.stop()
	checkAllPoints(t, c, vms, 2)
	migrate(t, c, vms[0])
	assertNoSecrets(t, c)
}
