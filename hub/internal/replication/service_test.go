package replication_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"hvmigrate/hub/internal/applier/applytest"
	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/sas"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/vhd"
)

func testPolicy() replication.Policy {
	p := replication.DefaultPolicy()
	p.Interval, p.KeepLatest, p.KeepWindow, p.KeepInterval = 30*time.Second, 2, 0, 0
	return p
}

var planOpt = applytest.PlanOptions{MaxExtents: 6, MaxLength: 256 << 10}

func TestService_Enable_createsReplicasAndGrants(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("web", 2<<20+4096, 1<<20)
	r, err := e.svc.Enable(e.ctx, "web", testPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if r.State != state.ReplInitialCopy || len(r.Disks) != 2 {
		t.Fatalf("replication = %+v", r)
	}
	cmds := e.streams.all()
	if len(cmds) != 1 || cmds[0].EnableReplication == nil {
		t.Fatalf("commands = %+v", cmds)
	}
	en := cmds[0].EnableReplication
	purposes := map[string]int{}
	for _, g := range en.SAS {
		purposes[g.Purpose]++
		if strings.Contains(g.URL.String(), "sig=") {
			t.Fatal("grant URL prints its signature")
		}
	}
	if purposes[sas.PurposeReplica] != 2 || purposes[sas.PurposeCycle] != 2*4 || en.Interval != 30*time.Second {
		t.Fatalf("grants by purpose %v, interval %s", purposes, en.Interval)
	}
	for i, d := range src.disks {
		name := "rep-" + e.project + "/vm/" + hexOf(src.id) + "/disk/" + hexOf(d.ID) + ".vhd"
		p, err := e.blobs.Properties(e.ctx, name, "")
		if err != nil || p.Size != vhd.ReplicaSize(d.Size)+vhd.FooterSize {
			t.Fatalf("replica %d: %+v %v", i, p, err)
		}
		foot := make([]byte, vhd.FooterSize)
		if _, err := e.blobs.ReadAt(e.ctx, name, "", foot, vhd.ReplicaSize(d.Size)); err != nil || !bytes.HasPrefix(foot, []byte("conectix")) {
			t.Fatalf("replica %d footer: %q %v", i, foot[:8], err)
		}
	}
	if _, err := e.svc.Enable(e.ctx, "web", testPolicy()); err != nil {
		t.Fatalf("enable again during the initial copy: %v", err)
	}
	if _, err := e.svc.Enable(e.ctx, "nope", testPolicy()); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("enable unknown vm: %v", err)
	}
	bad := testPolicy()
	bad.Threads = 33
	if _, err := e.svc.Enable(e.ctx, "web", bad); !errors.Is(err, replication.ErrInvalid) {
		t.Fatalf("enable with 33 threads: %v", err)
	}
}

func TestService_cycles_applyRecordAndPrune(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("db", 2<<20+4096, 1<<20)
	if _, err := e.svc.Enable(e.ctx, "db", testPolicy()); err != nil {
		t.Fatal(err)
	}
	src.copyInitial()
	st := src.status()
	for _, d := range st.Disks {
		if d.DoneBytes != d.TotalBytes || d.TotalBytes == 0 {
			t.Fatalf("progress of disk %s: %d/%d", d.DiskID, d.DoneBytes, d.TotalBytes)
		}
	}
	copyDone := len(e.streams.all())
	for c := uint64(1); c <= 3; c++ {
		src.event(src.nextCycle(planOpt))
		waitFor(t, "cycle applied", func() bool { return src.status().AppliedCycle == c })
		points, err := e.svc.Points(e.ctx, "db")
		if err != nil {
			t.Fatal(err)
		}
		if want := min(int(c), 2); len(points) != want || points[len(points)-1].Cycle != c {
			t.Fatalf("after cycle %d: %d points, want %d ending at %d", c, len(points), want, c)
		}
		for _, p := range points {
			src.checkPoint(p)
		}
	}
	st = src.status()
	if st.State != state.ReplReplicating || st.Health != "ok" || st.RPO <= 0 && st.SwitchedAt.IsZero() {
		t.Fatalf("status = %+v", st)
	}
	checkRefreshDropsReplicaGrant(t, e, copyDone)
}

// checkRefreshDropsReplicaGrant: once the copy is over, grant renewals
// carry no replica write grant.
func checkRefreshDropsReplicaGrant(t *testing.T, e *env, after int) {
	t.Helper()
	waitFor(t, "sas refresh", func() bool {
		for _, c := range e.streams.all()[after:] {
			if c.RefreshSAS != nil {
				return true
			}
		}
		return false
	})
	for _, c := range e.streams.all()[after:] {
		if c.RefreshSAS == nil {
			continue
		}
		for _, g := range c.RefreshSAS.Grants {
			if g.Purpose != sas.PurposeCycle {
				t.Fatalf("refresh after the copy carries a %s grant", g.Purpose)
			}
		}
	}
}

func TestService_gap_holdsUntilTheMissingCycleArrives(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("app", 1<<20)
	if _, err := e.svc.Enable(e.ctx, "app", testPolicy()); err != nil {
		t.Fatal(err)
	}
	src.copyInitial()
	first := src.nextCycle(planOpt)
	second := src.nextCycle(planOpt)
	src.event(second)
	waitFor(t, "gap reported", func() bool {
		st := src.status()
		return st.Health == "held" && strings.Contains(st.HealthMessage, "gap")
	})
	if st := src.status(); st.AppliedCycle != 0 || st.LatestReported != 2 || st.PendingBytes == 0 {
		t.Fatalf("held status = %+v", st)
	}
	src.event(first)
	waitFor(t, "both cycles applied", func() bool { return src.status().AppliedCycle == 2 })
	if st := src.status(); st.Health != "ok" {
		t.Fatalf("health after the gap closed: %s %s", st.Health, st.HealthMessage)
	}
	dup := first
	dup.ID = "m-again"
	src.event(dup)
	points, _ := e.svc.Points(e.ctx, "app")
	for _, p := range points {
		src.checkPoint(p)
	}
}

func TestService_Disable_queuesCleanup(t *testing.T) {
	e := newEnv(t)
	e.newSource("old", 1<<20)
	if _, err := e.svc.Enable(e.ctx, "old", testPolicy()); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.Disable(e.ctx, "old")
	if err != nil || r.State != state.ReplDisabled {
		t.Fatalf("disable: %+v %v", r, err)
	}
	cmds := e.streams.all()
	if last := cmds[len(cmds)-1]; last.DisableReplication == nil || last.DisableReplication.VMID != r.VMID {
		t.Fatalf("last command = %+v", last)
	}
	r, err = e.svc.Enable(e.ctx, "old", testPolicy())
	if err != nil || r.Generation != 2 {
		t.Fatalf("enable after disable: generation %d, %v", r.Generation, err)
	}
}

func TestService_grantsRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("renew", 1<<20)
	if _, err := e.svc.Enable(e.ctx, "renew", testPolicy()); err != nil {
		t.Fatal(err)
	}
	first := e.streams.all()[0].EnableReplication.SAS[0].ExpiresAt
	time.Sleep(500 * time.Millisecond) // a few ticks: nothing to renew yet
	for _, c := range e.streams.all() {
		if c.RefreshSAS != nil {
			t.Fatal("grants renewed long before expiry")
		}
	}
	e.skew.Store(int64(90 * time.Minute)) // 30 minutes before the 2-hour grants expire
	waitFor(t, "renewal", func() bool {
		for _, c := range e.streams.all() {
			if c.RefreshSAS != nil && c.RefreshSAS.VMID == src.vmID() && c.RefreshSAS.Grants[0].ExpiresAt.After(first) {
				return true
			}
		}
		return false
	})
}
