package driver_test

import (
	"context"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/shared/units"
)

const container = "replicas"

// countingAgent records every new start of a copy job whose disk
// the store already holds as copied: a restart must not copy it again.
type countingAgent struct {
	driver.Agent
	mu        sync.Mutex
	forbidden map[string]bool
	recopies  []string
	starts    int
}

func (c *countingAgent) StartInitialCopy(ctx context.Context, spec agentclient.InitialCopy) (agentclient.Job, error) {
	c.mu.Lock()
	c.starts++
	if c.forbidden[spec.JobID] {
		c.recopies = append(c.recopies, spec.JobID)
	}
	c.mu.Unlock()
	return c.Agent.StartInitialCopy(ctx, spec)
}

// forbidCopied marks the copy jobs of every disk the stored state holds
// as copied.
func (c *countingAgent) forbidCopied(st replication.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range st.Disks {
		if d.Copy == replication.DiskCopied {
			c.forbidden[replication.CopyJobID(st.VMID, d.ID, st.Generation)] = true
		}
	}
}

func TestDriver_endToEnd_copiesCyclesAndSurvivesRestarts(t *testing.T) {
	s := seed(t)
	t.Logf("seed %d (rerun with HVM_TEST_SEED=%d)", s, s)
	rng := mrand.New(mrand.NewPCG(s, 1))
	r := newRig(t)
	r.createVM()
	agent := r.agentUp()
	r.agent = &countingAgent{forbidden: map[string]bool{}}
	stop := r.workload(s)
	deadline := time.Now().Add(40 * time.Second)
	var st replication.State
	interrupted := 0
	for round := 0; ; round++ {
		d, hook := time.Duration(600+rng.IntN(1800))*time.Millisecond, func(*driver.Driver) {}
		switch round {
		case 0: // slow uploads, so that the first rounds end inside the initial copy
			d, hook = time.Duration(300+rng.IntN(600))*time.Millisecond, func(drv *driver.Driver) { r.limit(drv, 16*units.Mbps); r.enable(drv) }
		case 1:
			d = time.Duration(300+rng.IntN(600)) * time.Millisecond
		case 2: // the agent dies too, and uploads run at full speed again
			agent.kill()
			agent = r.agentUp()
			hook = func(drv *driver.Driver) { r.limit(drv, units.Unlimited) }
		case 4: // the hub asks for a resync while cycles run
			hook = func(drv *driver.Driver) { r.resync(drv) }
		}
		st = r.round(d, hook)
		r.agent.forbidCopied(st)
		t.Logf("round %d ended after %s: phase %s generation %d last cycle %d", round, d, st.Phase, st.Generation, st.LastCycle)
		if st.Phase == replication.PhaseInitialReplication || st.Phase == replication.PhaseResyncing {
			interrupted++
		}
		if round >= 5 && st.Generation >= 2 && st.Phase == replication.PhaseDeltaReplication && st.LastCycle >= st.BaseCycle+3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress after %d rounds: %+v", round+1, st)
		}
	}
	stop()
	if interrupted == 0 {
		t.Fatal("no restart fell inside a copy: the test did not exercise re-attaching")
	}
	r.check()
}

func (r *rig) check() {
	t := r.t
	if v := r.hub.Violations(); len(v) > 0 {
		t.Fatalf("hub saw broken cycle numbering: %v", v)
	}
	if len(r.agent.recopies) > 0 {
		t.Fatalf("finished disks copied again after a restart: %v", r.agent.recopies)
	}
	ms := r.hub.Manifests(r.vm.ID)
	base := -1
	for i, m := range ms {
		if m.Kind == replication.ManifestBase {
			base = i
		}
	}
	if base < 0 || ms[base].Generation < 2 || len(ms)-base-1 < 3 {
		t.Fatalf("want a resync base and 3 cycles after it, got %d manifests (base at %d): %+v", len(ms), base, ms)
	}
	t.Logf("%d manifests, latest base is cycle %d (generation %d), %d copy starts", len(ms), ms[base].Cycle, ms[base].Generation, r.agent.starts)
	last := ms[len(ms)-1]
	want, err := r.sim.Client.GetSwitchChecksums(context.Background(), r.vm.ID, last.HostSwitch)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		got := r.rebuild(ms[base:], w.DiskID, w.Size)
		if got != w.SHA256 {
			t.Errorf("disk %s: replica after cycle %d has sha256 %s, source at switch %d has %s", w.DiskID, last.Cycle, got, last.HostSwitch, w.SHA256)
		}
	}
	if p, ok := r.hub.Progress(r.vm.ID); !ok || p.LastCycle == 0 {
		t.Errorf("no progress reported: %+v", p)
	}
}
