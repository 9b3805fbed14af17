package replication_test

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/shared/delta"
)

// sendResyncHashes reports the hashes of every disk at cycle, in two
// pieces each (the second first), under request id req.
func (s *source) sendResyncHashes(cycle uint64, req string) {
	s.e.t.Helper()
	for i := range s.disks {
		h := s.hashes(i, cycle)
		half := len(h.SHA256) / 2
		for _, p := range []struct {
			first  int
			hashes []string
		}{{half, h.SHA256[half:]}, {0, h.SHA256[:half]}} {
			s.event(stream.Event{ID: fmt.Sprintf("rh-%s-%s-%d-%d", s.name, req, i, p.first), ResyncHashes: &stream.ResyncHashes{
				VMID: s.vmID(), DiskID: s.diskID(i), Cycle: cycle, RequestID: req, ChunkBytes: chunk,
				FirstChunk: uint64(p.first), SHA256: p.hashes}})
		}
	}
}

// resyncAnswers waits for the hub's answer about every disk of request
// req and returns them by disk index.
func (s *source) resyncAnswers(req string) map[int][]*stream.ResyncRanges {
	s.e.t.Helper()
	out := map[int][]*stream.ResyncRanges{}
	waitFor(s.e.t, "resync answers", func() bool {
		clear(out)
		for _, c := range s.e.streams.all() {
			if r := c.ResyncRanges; r != nil && r.VMID == s.vmID() && r.RequestID == req {
				i := s.diskIndex(r.DiskID)
				out[i] = append(out[i], r)
			}
		}
		return len(out) == len(s.disks)
	})
	return out
}

// resyncObject builds disk i's resync object of the ranges from the model.
func (s *source) resyncObject(i int, cycle uint64, ranges []stream.ByteRange) []byte {
	s.e.t.Helper()
	d := s.disks[i]
	var plan []delta.Extent
	for _, g := range ranges {
		k := delta.Data
		if g.Zero {
			k = delta.Zero
		}
		plan = append(plan, delta.Extent{Offset: int64(g.Offset), Length: int64(g.Length), Kind: k})
	}
	var buf bytes.Buffer
	w, err := delta.NewWriter(&buf, delta.Header{Kind: delta.KindResync, VMID: s.id, DiskID: d.ID, Cycle: cycle,
		PrevCycle: cycle - 1, VirtualSize: d.Size, Compression: delta.CompressionZstd}, plan)
	if err != nil {
		s.e.t.Fatal(err)
	}
	for _, e := range plan {
		if e.Kind == delta.Data {
			if _, err := w.Write(d.Model[e.Offset:e.End()]); err != nil {
				s.e.t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		s.e.t.Fatal(err)
	}
	return buf.Bytes()
}

// TestService_resync_sendsOnlyDifferingChunks: the host lost track of
// some writes; the hub compares the source hashes with the replica at the
// applied cycle and names exactly the changed chunks (a chunk that became
// zero as a zero range), with a grant on the resync object; the resync
// object applied as the next cycle makes the replica equal the source.
func TestService_resync_sendsOnlyDifferingChunks(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rs", 1<<20, 512<<10)
	src.replicatedTo(2)
	// Writes the logs never told: disk 0 chunks 3 and 4 and 9, disk 1 chunk 2 zeroed.
	for _, c := range []int{3, 4, 9} {
		for j := range 512 {
			src.disks[0].Model[c*chunk+j] ^= byte(1 + src.rng.IntN(255))
		}
	}
	clear(src.disks[1].Model[2*chunk : 3*chunk])
	src.snapshot(3)
	src.sendResyncHashes(3, "q1")
	answers := src.resyncAnswers("q1")
	want := map[int][]stream.ByteRange{
		0: {{Offset: 3 * chunk, Length: 2 * chunk}, {Offset: 9 * chunk, Length: chunk}},
		1: {{Offset: 2 * chunk, Length: chunk, Zero: true}},
	}
	m := &stream.CycleManifest{VMID: src.vmID(), Cycle: 3, SwitchedAt: time.Now()}
	for i, rs := range answers {
		if len(rs) != 1 || rs[0].Parts != 1 || rs[0].FullCopy || rs[0].Cycle != 3 || rs[0].Grant == nil {
			t.Fatalf("disk %d answer %+v", i, rs)
		}
		if fmt.Sprint(rs[0].Ranges) != fmt.Sprint(want[i]) {
			t.Fatalf("disk %d ranges %v, want %v", i, rs[0].Ranges, want[i])
		}
		u, err := url.Parse(rs[0].Grant.URL.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(u.Path[strings.Index(u.Path, "/vm/"):], "/")
		if wantName := fmt.Sprintf("vm/%s/disk/%s/resync/3.delta", hexOf(src.id), hexOf(src.disks[i].ID)); name != wantName {
			t.Fatalf("grant on %s, want %s", name, wantName)
		}
		obj := src.resyncObject(i, 3, rs[0].Ranges)
		src.upload(rs[0].Grant.URL.Reveal(), obj)
		m.Disks = append(m.Disks, stream.ManifestDisk{DiskID: src.diskID(i), ObjectName: name, SizeBytes: uint64(len(obj))})
	}
	// A repeated piece of the answered request changes nothing.
	before := len(e.streams.all())
	src.sendResyncHashes(3, "q1")
	src.event(stream.Event{ID: "m-rs-3", CycleManifest: m})
	waitFor(t, "resync cycle applied", func() bool { return src.status().AppliedCycle == 3 })
	if n := len(e.streams.all()); n < before {
		t.Fatalf("commands went from %d to %d", before, n)
	}
	for _, c := range e.streams.all()[before:] {
		if c.ResyncRanges != nil {
			t.Fatalf("an answered request was answered again: %+v", c.ResyncRanges)
		}
	}
	points, err := e.svc.Points(e.ctx, src.vmID())
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range points {
		if p.Cycle == 3 {
			src.checkPoint(p)
			found = true
		}
	}
	if !found {
		t.Fatalf("no recovery point of the resync cycle among %+v", points)
	}
}

// TestService_resync_waitsForTheAppliedCycle: hashes for a resync whose
// previous cycle the hub has not applied yet are answered once it is.
func TestService_resync_waitsForTheAppliedCycle(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rw", 512<<10)
	src.replicatedTo(1)
	held := src.nextCycle(planOpt) // cycle 2, reported only later
	src.snapshot(3)
	src.sendResyncHashes(3, "q2")
	time.Sleep(500 * time.Millisecond) // a few worker passes
	for _, c := range e.streams.all() {
		if c.ResyncRanges != nil {
			t.Fatalf("answered before cycle 2 was applied: %+v", c.ResyncRanges)
		}
	}
	src.event(held)
	answers := src.resyncAnswers("q2")
	if r := answers[0]; len(r) != 1 || len(r[0].Ranges) != 0 || r[0].FullCopy {
		t.Fatalf("answer %+v, want no differing ranges", r)
	}
}

// TestService_resync_fallsBackToAFullCopy: a replica that never got a
// cycle applied cannot be compared: the answer is a full copy, the VM
// goes back to its initial copy and the replica write grant is issued.
func TestService_resync_fallsBackToAFullCopy(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rf", 512<<10)
	if _, err := e.svc.Enable(e.ctx, src.name, testPolicy()); err != nil {
		t.Fatal(err)
	}
	src.snapshot(1)
	src.sendResyncHashes(1, "q3")
	answers := src.resyncAnswers("q3")
	if r := answers[0]; len(r) != 1 || !r[0].FullCopy || r[0].Grant != nil || len(r[0].Ranges) != 0 {
		t.Fatalf("answer %+v, want a full copy", r)
	}
	if st := src.status(); st.State != state.ReplInitialCopy {
		t.Fatalf("vm is %s, want %s", st.State, state.ReplInitialCopy)
	}
	var replicaGrant bool
	for _, c := range e.streams.all() {
		if c.RefreshSAS != nil {
			for _, g := range c.RefreshSAS.Grants {
				replicaGrant = replicaGrant || g.Purpose == "replica"
			}
		}
	}
	if !replicaGrant {
		t.Fatal("no replica write grant for the full copy")
	}
}

// TestService_resync_rejectsBadHashes: pieces that do not fit the disk
// are refused (the stream leaves them unacknowledged and logs them).
func TestService_resync_rejectsBadHashes(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rb", 512<<10)
	src.replicatedTo(1)
	bad := []*stream.ResyncHashes{
		{VMID: src.vmID(), DiskID: src.diskID(0), Cycle: 2, RequestID: "q", ChunkBytes: 1000, SHA256: []string{""}},
		{VMID: src.vmID(), DiskID: src.diskID(0), Cycle: 2, RequestID: "q", ChunkBytes: chunk, FirstChunk: 8, SHA256: []string{""}},
		{VMID: src.vmID(), DiskID: src.diskID(0), Cycle: 2, RequestID: "q", ChunkBytes: chunk, SHA256: []string{"XYZ"}},
	}
	for i, h := range bad {
		if err := e.svc.HandleEvent(e.ctx, hostID, stream.Event{ID: fmt.Sprintf("bad-%d", i), ResyncHashes: h}); err == nil {
			t.Errorf("piece %+v accepted", h)
		}
	}
}

// TestService_resync_afterAnOperatorResync: an operator's resync puts the
// VM back to its initial copy while a reported cycle waits; the host's
// chunk hashes still get an answer once that cycle is applied.
func TestService_resync_afterAnOperatorResync(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("ro", 512<<10)
	src.replicatedTo(1)
	if _, err := e.svc.Resync(e.ctx, src.name); err != nil {
		t.Fatal(err)
	}
	ev := src.nextCycle(planOpt) // cycle 2, stored as it stood before the resync
	m := state.Manifest{VMID: src.vmID(), Cycle: 2, SwitchedAt: ev.CycleManifest.SwitchedAt, ReceivedAt: time.Now()}
	for _, d := range ev.CycleManifest.Disks {
		m.Disks = append(m.Disks, state.ManifestDisk{DiskID: d.DiskID, Object: d.ObjectName, Size: int64(d.SizeBytes)})
	}
	if _, err := e.st.SaveManifest(e.ctx, m); err != nil {
		t.Fatal(err)
	}
	src.snapshot(3)
	src.sendResyncHashes(3, "q4")
	answers := src.resyncAnswers("q4")
	if r := answers[0]; len(r) != 1 || r[0].FullCopy || len(r[0].Ranges) != 0 {
		t.Fatalf("answer %+v, want no differing ranges", r)
	}
	if st := src.status(); st.AppliedCycle != 2 || st.State != state.ReplReplicating {
		t.Fatalf("vm %s at cycle %d, want replicating at 2", st.State, st.AppliedCycle)
	}
}

// TestService_resync_replicaGoneMeansFullCopy: a replica that is gone
// cannot be compared.
func TestService_resync_replicaGoneMeansFullCopy(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rg", 512<<10)
	src.replicatedTo(1)
	admin, err := e.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("vm/%s/disk/%s.vhd", hexOf(src.id), hexOf(src.disks[0].ID))
	include := blob.DeleteSnapshotsOptionTypeInclude
	if _, err := admin.ServiceClient().NewContainerClient("rep-"+e.project).NewBlobClient(name).Delete(e.ctx,
		&blob.DeleteOptions{DeleteSnapshots: &include}); err != nil {
		t.Fatal(err)
	}
	src.snapshot(2)
	src.sendResyncHashes(2, "q5")
	if r := src.resyncAnswers("q5")[0]; len(r) != 1 || !r[0].FullCopy {
		t.Fatalf("answer %+v, want a full copy", r)
	}
}

// TestService_resync_replacesAHeldCycle: a VM held on a cycle whose
// object cannot be applied (here: never uploaded) is not stuck: the
// resync compares the replica where it stands, its object replaces the
// held cycles, and the replica equals the source at the resync's cycle.
func TestService_resync_replacesAHeldCycle(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("rh", 1<<20)
	src.replicatedTo(1)
	// Cycle 2 is reported but its object never arrives: the VM is held.
	src.cycle++
	m2 := &stream.CycleManifest{VMID: src.vmID(), Cycle: 2, SwitchedAt: time.Now(), Disks: []stream.ManifestDisk{{
		DiskID: src.diskID(0), ObjectName: fmt.Sprintf("vm/%s/disk/%s/cycle/2.delta", hexOf(src.id), hexOf(src.disks[0].ID))}}}
	src.event(stream.Event{ID: "m-rh-2", CycleManifest: m2})
	waitFor(t, "the vm held on cycle 2", func() bool { return strings.Contains(src.status().HealthMessage, "cycle 2") })

	for _, c := range []int{1, 6} {
		for j := range 1024 {
			src.disks[0].Model[c*chunk+j] ^= byte(1 + src.rng.IntN(255))
		}
	}
	src.cycle = 3
	src.snapshot(3)
	src.sendResyncHashes(3, "q9")
	rs := src.resyncAnswers("q9")[0]
	if len(rs) != 1 || rs[0].FullCopy || rs[0].Grant == nil {
		t.Fatalf("answer %+v, want ranges with a grant", rs)
	}
	want := []stream.ByteRange{{Offset: chunk, Length: chunk}, {Offset: 6 * chunk, Length: chunk}}
	if fmt.Sprint(rs[0].Ranges) != fmt.Sprint(want) {
		t.Fatalf("ranges %v, want %v (compared against cycle 1)", rs[0].Ranges, want)
	}
	obj := src.resyncObject(0, 3, rs[0].Ranges)
	src.upload(rs[0].Grant.URL.Reveal(), obj)
	name := fmt.Sprintf("vm/%s/disk/%s/resync/3.delta", hexOf(src.id), hexOf(src.disks[0].ID))
	src.event(stream.Event{ID: "m-rh-3", CycleManifest: &stream.CycleManifest{VMID: src.vmID(), Cycle: 3, SwitchedAt: time.Now(),
		Disks: []stream.ManifestDisk{{DiskID: src.diskID(0), ObjectName: name, SizeBytes: uint64(len(obj))}}}})
	waitFor(t, "the resync cycle applied over the held one", func() bool { return src.status().AppliedCycle == 3 })
	if st := src.status(); st.Health != "ok" {
		t.Fatalf("health %q %q after the resync", st.Health, st.HealthMessage)
	}
	points, err := e.svc.Points(e.ctx, src.vmID())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range points {
		if p.Cycle == 2 {
			t.Fatal("a recovery point of the replaced cycle 2")
		}
		if p.Cycle == 3 {
			src.checkPoint(p)
			return
		}
	}
	t.Fatalf("no recovery point of cycle 3 among %+v", points)
}
