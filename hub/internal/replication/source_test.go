package replication_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/pageblob"
	"github.com/google/uuid"

	"hvmigrate/hub/internal/applier/applytest"
	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/shared/delta"
)

// source is the model of one VM on the host: its disks' bytes now and at
// every cycle, and the grants the hub sent.
type source struct {
	e       *env
	name    string
	id      delta.ID
	disks   []*applytest.Disk
	history map[uint64][][]byte
	rng     *rand.Rand
	grants  map[string]string // blob path -> SAS URL
	cycle   uint64
	inv     state.VM // what the host reports of the VM
	reports int
}

// sourceNICs are the network adapters every source VM starts with.
func sourceNICs() []state.NIC {
	return []state.NIC{{Name: "lan", SwitchName: "External", MACAddress: "00:15:5D:00:00:01"}, {Name: "mgmt", SwitchName: "Internal"}}
}

func (e *env) newSource(name string, sizes ...int64) *source {
	rng := rand.New(rand.NewPCG(uint64(len(name)), 7))
	s := &source{e: e, name: name, id: delta.ID(uuid.New()), rng: rng, history: map[uint64][][]byte{}, grants: map[string]string{}}
	vm := state.VM{ID: uuid.UUID(s.id).String(), Name: name, PowerState: "running", Generation: 2, VCPUs: 4, MemoryBytes: 12 << 30,
		NICs: sourceNICs()}
	for _, size := range sizes {
		d := &applytest.Disk{ID: delta.ID(uuid.New()), Size: size, Model: make([]byte, size)}
		for i := 0; i < len(d.Model); i += 4096 * 3 { // some data, some zero
			copy(d.Model[i:min(i+4096, len(d.Model))], bytes.Repeat([]byte{byte(rng.Uint32())}, 4096))
		}
		s.disks = append(s.disks, d)
		vm.Disks = append(vm.Disks, state.Disk{ID: uuid.UUID(d.ID).String(), Name: fmt.Sprintf("disk%d", len(s.disks)), SizeBytes: uint64(size)})
	}
	s.inv = vm
	s.report()
	s.snapshot(0)
	return s
}

// report sends the host's inventory, this VM alone, as the hub's stream
// stores it.
func (s *source) report() {
	s.reports++
	ev := state.Event{HostID: hostID, ID: fmt.Sprintf("inv-%s-%d", s.name, s.reports), Kind: "inventory", Payload: []byte{1}, ReceivedAt: time.Now()}
	if _, err := s.e.st.RecordEvent(s.e.ctx, ev, []state.VM{s.inv}); err != nil {
		s.e.t.Fatal(err)
	}
}

func (s *source) vmID() string          { return uuid.UUID(s.id).String() }
func (s *source) diskID(i int) string   { return uuid.UUID(s.disks[i].ID).String() }
func (s *source) snapshot(cycle uint64) { s.history[cycle] = s.copyModels() }
func (s *source) copyModels() [][]byte {
	out := make([][]byte, len(s.disks))
	for i, d := range s.disks {
		out[i] = bytes.Clone(d.Model)
	}
	return out
}

// takeGrants reads the grants of every command about this VM.
func (s *source) takeGrants() {
	for _, c := range s.e.streams.all() {
		var gs []stream.SASGrant
		switch {
		case c.EnableReplication != nil && c.EnableReplication.VMID == s.vmID():
			gs = c.EnableReplication.SAS
		case c.RefreshSAS != nil && c.RefreshSAS.VMID == s.vmID():
			gs = c.RefreshSAS.Grants
		}
		for _, g := range gs {
			u, err := url.Parse(g.URL.Reveal())
			if err != nil {
				s.e.t.Fatal(err)
			}
			s.grants[u.Path] = g.URL.Reveal()
		}
	}
}

// grant returns the URL of the grant whose path ends with suffix.
func (s *source) grant(suffix string) string {
	s.takeGrants()
	for p, u := range s.grants {
		if strings.HasSuffix(p, suffix) {
			return u
		}
	}
	s.e.t.Fatalf("no grant for %s", suffix)
	return ""
}

func hexOf(id delta.ID) string { return fmt.Sprintf("%x", id[:]) }

// copyInitial uploads every disk's data to its replica with the replica
// grant, as the agent does, and reports progress.
func (s *source) copyInitial() {
	for i, d := range s.disks {
		raw := s.grant("/disk/" + hexOf(d.ID) + ".vhd")
		c, err := pageblob.NewClientWithNoCredential(raw, &pageblob.ClientOptions{ClientOptions: s.e.srv.ClientOptions().ClientOptions})
		if err != nil {
			s.e.t.Fatal(err)
		}
		for off := int64(0); off < d.Size; off += 1 << 20 {
			n := min(int64(1<<20), d.Size-off)
			_, err := c.UploadPages(s.e.ctx, streaming.NopCloser(bytes.NewReader(d.Model[off:off+n])), blob.HTTPRange{Offset: off, Count: n}, nil)
			if err != nil {
				s.e.t.Fatalf("initial copy of disk %d: %v", i, err)
			}
		}
		s.event(stream.Event{ID: fmt.Sprintf("p-%s-%d", s.name, i), Progress: &stream.Progress{VMID: s.vmID(), DiskID: s.diskID(i),
			Phase: "initial_copy", DoneBytes: uint64(d.Size), TotalBytes: uint64(d.Size)}})
	}
}

func (s *source) event(ev stream.Event) {
	s.e.t.Helper()
	if err := s.e.svc.HandleEvent(s.e.ctx, hostID, ev); err != nil {
		s.e.t.Fatalf("HandleEvent %s: %v", ev.ID, err)
	}
}

// nextCycle changes the models, uploads each disk's object with its cycle
// grant and returns the manifest event (not yet sent).
func (s *source) nextCycle(opt applytest.PlanOptions) stream.Event {
	s.cycle++
	m := &stream.CycleManifest{VMID: s.vmID(), Cycle: s.cycle, SwitchedAt: time.Now()}
	for i, d := range s.disks {
		hdr := delta.Header{Kind: delta.KindCycle, VMID: s.id, DiskID: d.ID, Cycle: s.cycle, PrevCycle: s.cycle - 1, VirtualSize: d.Size}
		obj, err := applytest.Build(hdr, applytest.RandomPlan(s.rng, d.Size, opt), d.Model, s.rng)
		if err != nil {
			s.e.t.Fatal(err)
		}
		name := fmt.Sprintf("vm/%s/disk/%s/cycle/%d.delta", hexOf(s.id), hexOf(d.ID), s.cycle)
		s.upload(s.grant("/"+name), obj)
		m.Disks = append(m.Disks, stream.ManifestDisk{DiskID: s.diskID(i), ObjectName: name, SizeBytes: uint64(len(obj))})
	}
	s.snapshot(s.cycle)
	return stream.Event{ID: fmt.Sprintf("m-%s-%d", s.name, s.cycle), CycleManifest: m}
}

func (s *source) upload(raw string, obj []byte) {
	c, err := blockblob.NewClientWithNoCredential(raw, &blockblob.ClientOptions{ClientOptions: s.e.srv.ClientOptions().ClientOptions})
	if err != nil {
		s.e.t.Fatal(err)
	}
	if _, err := c.UploadBuffer(s.e.ctx, obj, &azblob.UploadBufferOptions{BlockSize: 256 << 10}); err != nil {
		s.e.t.Fatalf("upload cycle object: %v", err)
	}
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status returns the VM's status.
func (s *source) status() replication.VMStatus {
	s.e.t.Helper()
	st, err := s.e.svc.Status(s.e.ctx, s.name)
	if err != nil || len(st) != 1 {
		s.e.t.Fatalf("status: %v %v", st, err)
	}
	return st[0]
}

// checkPoint compares a recovery point's snapshots with the model.
func (s *source) checkPoint(p state.RecoveryPoint) {
	s.e.t.Helper()
	want := s.history[p.Cycle]
	for _, d := range p.Disks {
		i := s.diskIndex(d.DiskID)
		got := make([]byte, len(want[i]))
		if _, err := s.e.blobs.ReadAt(s.e.ctx, d.Blob, d.Snapshot, got, 0); err != nil {
			s.e.t.Fatalf("read point %d disk %d: %v", p.Cycle, i, err)
		}
		if !bytes.Equal(got, want[i]) {
			s.e.t.Fatalf("point %d disk %d differs from the source at that cycle", p.Cycle, i)
		}
	}
}

func (s *source) diskIndex(id string) int {
	for i := range s.disks {
		if s.diskID(i) == id {
			return i
		}
	}
	s.e.t.Fatalf("unknown disk %s", id)
	return -1
}
