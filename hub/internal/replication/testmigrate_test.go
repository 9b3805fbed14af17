package replication_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
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
	started := src.inv
	checkHardware(t, e, runPrefix(t, ctr, run), started)
	// The host reports other hardware: the run already made keeps what it
	// started with, a new run takes the new report.
	src.inv.Generation, src.inv.VCPUs, src.inv.MemoryBytes, src.inv.NICs = 1, 16, 48<<30, sourceNICs()[:1]
	src.report()
	again, err := e.svc.TestMigrate(e.ctx, "tm", 1)
	if err != nil || again.ID != run.ID {
		t.Fatalf("second run of the same point: %s %v, want the same run %s", again.ID, err, run.ID)
	}
	if again.Definition.VCPUs != int(started.VCPUs) || len(again.Definition.NICs) != len(started.NICs) {
		t.Fatalf("second run of the same point changed its definition: %+v", again.Definition)
	}
	checkHardware(t, e, runPrefix(t, ctr, run), started)
	later, err := e.svc.TestMigrate(e.ctx, "tm", 2)
	if err != nil || later.ID == run.ID {
		t.Fatalf("test migration of point 2: %+v, %v", later, err)
	}
	checkHardware(t, e, runPrefix(t, ctr, later), src.inv)
	listed, err := e.blobs.List(e.ctx, ctr+"/testmigrate/")
	if err != nil || len(listed) != 2*(len(run.Definition.Disks)+2) {
		t.Fatalf("test migration blobs = %d, %v; want %d", len(listed), err, 2*(len(run.Definition.Disks)+2))
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

func runPrefix(t *testing.T, ctr string, run replication.TestRun) string {
	return ctr + "/testmigrate/" + hexOf(mustID(t, run.VMID)) + "/" + run.ID + "/"
}

// checkHardware reads vm.json and template.json under prefix and checks
// that they carry what the host reported of the VM: generation, vCPUs,
// memory and NICs, the template's OS disk generation, proposed size and
// one NIC per source NIC.
func checkHardware(t *testing.T, e *env, prefix string, want state.VM) {
	t.Helper()
	var def replication.VMDefinition
	readJSON(t, e, prefix+"vm.json", &def)
	var nics []state.NIC
	for _, n := range def.NICs {
		nics = append(nics, state.NIC{Name: n.Name, SwitchName: n.Switch, MACAddress: n.MAC})
	}
	if def.Generation != int(want.Generation) || def.VCPUs != int(want.VCPUs) || def.MemoryBytes != int64(want.MemoryBytes) ||
		!reflect.DeepEqual(nics, want.NICs) {
		t.Fatalf("vm.json hardware = gen %d, %d vcpus, %d bytes, nics %+v; want %+v", def.Generation, def.VCPUs, def.MemoryBytes, def.NICs, want)
	}
	var tmpl armTemplate
	readJSON(t, e, prefix+"template.json", &tmpl)
	gens := map[uint32]string{1: "V1", 2: "V2"}
	if g := tmpl.defaultOf(t, "hyperVGeneration"); g != gens[want.Generation] {
		t.Fatalf("template hyperVGeneration = %s, want %s", g, gens[want.Generation])
	}
	wantSize := replication.SizeFor(int(want.VCPUs), int64(want.MemoryBytes), len(want.NICs), len(def.Disks)-1)
	if s := tmpl.defaultOf(t, "vmSize"); s != wantSize {
		t.Fatalf("template vmSize = %s, want %s", s, wantSize)
	}
	if n := len(tmpl.ofType("Microsoft.Network/networkInterfaces")); n != len(want.NICs) {
		t.Fatalf("template has %d NICs, want %d", n, len(want.NICs))
	}
}

func checkDefinition(t *testing.T, e *env, ctr string, run replication.TestRun) {
	t.Helper()
	prefix := runPrefix(t, ctr, run)
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
