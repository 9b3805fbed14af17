package replication_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"hvmigrate/hub/internal/replication"
)

func TestService_TestMigrate_copiesPointAndCleansUp(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("tm", 2<<20+4096, 1<<20)
	if _, err := e.svc.Enable(e.ctx, "tm", testPolicy()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.TestMigrate(e.ctx, "tm", 0); err == nil {
		t.Fatal("test migration without a recovery point succeeded")
	}
	src.copyInitial()
	for c := uint64(1); c <= 2; c++ {
		src.event(src.nextCycle(planOpt))
		waitFor(t, "cycle applied", func() bool { return src.status().AppliedCycle == c })
	}
	run, err := e.svc.TestMigrate(e.ctx, "tm", 1)
	if err != nil {
		t.Fatal(err)
	}
	ctr := "rep-" + e.project
	for _, d := range run.Definition.Disks {
		name := strings.TrimPrefix(d.BlobURL, e.srv.Endpoint+"/")
		i := src.diskIndex(d.ID)
		want := src.history[1][i]
		got := make([]byte, len(want))
		if _, err := e.blobs.ReadAt(e.ctx, name, "", got, 0); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("test copy of disk %d differs from the source at cycle 1 (%v)", i, err)
		}
		if !strings.HasPrefix(name, ctr+"/testmigrate/"+hexOf(src.id)+"/"+run.ID+"/disk-") {
			t.Fatalf("copy name %s", name)
		}
	}
	checkDefinition(t, e, ctr, run)
	again, err := e.svc.TestMigrate(e.ctx, "tm", 1)
	if err != nil || again.ID != run.ID {
		t.Fatalf("second run of the same point: %s %v, want the same run %s", again.ID, err, run.ID)
	}
	listed, err := e.blobs.List(e.ctx, ctr+"/testmigrate/")
	if err != nil || len(listed) != len(run.Definition.Disks)+2 {
		t.Fatalf("test migration blobs = %d, %v; want %d", len(listed), err, len(run.Definition.Disks)+2)
	}
	n, err := e.svc.CleanupTestMigration(e.ctx, "tm")
	if err != nil || n != len(listed) {
		t.Fatalf("cleanup removed %d, %v", n, err)
	}
	if left, _ := e.blobs.List(e.ctx, ctr+"/testmigrate/"); len(left) != 0 {
		t.Fatalf("left after cleanup: %+v", left)
	}
	if st := src.status(); st.AppliedCycle != 2 || st.Points != 2 {
		t.Fatalf("replication disturbed by the test migration: %+v", st)
	}
}

func checkDefinition(t *testing.T, e *env, ctr string, run replication.TestRun) {
	t.Helper()
	prefix := ctr + "/testmigrate/" + hexOf(mustID(t, run.VMID)) + "/" + run.ID + "/"
	var def replication.VMDefinition
	readJSON(t, e, prefix+"vm.json", &def)
	if def.Name != "tm" || def.RecoveryPoint != 1 || len(def.Disks) != 2 || !def.Disks[0].OSDisk {
		t.Fatalf("vm definition = %+v", def)
	}
	var tmpl struct {
		Resources []struct {
			Type string `json:"type"`
		} `json:"resources"`
	}
	readJSON(t, e, prefix+"template.json", &tmpl)
	kinds := map[string]int{}
	for _, r := range tmpl.Resources {
		kinds[r.Type]++
	}
	if kinds["Microsoft.Compute/disks"] != 2 || kinds["Microsoft.Compute/virtualMachines"] != 1 {
		t.Fatalf("template resources = %v", kinds)
	}
}

func readJSON(t *testing.T, e *env, name string, v any) {
	t.Helper()
	p, err := e.blobs.Properties(e.ctx, name, "")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, p.Size)
	if _, err := e.blobs.ReadAt(e.ctx, name, "", b, 0); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustID(t *testing.T, s string) [16]byte {
	id, err := replication.ParseID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
