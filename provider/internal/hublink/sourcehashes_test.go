package hublink

import (
	"context"
	"fmt"
	"testing"

	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/replication"
)

// hasher yields n hashes per disk path, in pieces of piece.
type hasher struct {
	n, piece int
	paths    []string
}

func (h *hasher) HashDisk(_ context.Context, path string, chunkBytes int64, fn func(int64, []string) error) (int64, error) {
	h.paths = append(h.paths, path)
	for first := 0; first < h.n; first += h.piece {
		var hs []string
		for i := first; i < min(first+h.piece, h.n); i++ {
			hs = append(hs, fmt.Sprintf("%064x", i))
		}
		if err := fn(int64(first), hs); err != nil {
			return 0, err
		}
	}
	return int64(h.n) * chunkBytes, nil
}

// TestHub_ReportCycle_finalSendsSourceHashes: a final manifest goes up
// after every disk's chunk hashes, hashed from the disk's current file,
// split into bounded events whose ids are short and stable.
func TestHub_ReportCycle_finalSendsSourceHashes(t *testing.T) {
	s := &sender{}
	hs := &hasher{n: hashesPerEvent + 100, piece: hashesPerEvent/2 + 7}
	src := vms{list: []host.VM{{ID: testVM, Disks: []host.Disk{{ID: testDisk, Path: "/vms/a/disk.avhdx"}}}}}
	h := NewHub(testConfig(), Deps{Send: s, Host: src, Hasher: hs})
	m := replication.Manifest{VMID: testVM, Kind: replication.ManifestFinal, Cycle: 9, Previous: 8,
		Disks: []replication.ManifestDisk{{DiskID: testDisk, Object: "o"}}}
	for range 2 {
		if err := h.ReportCycle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if len(hs.paths) != 2 || hs.paths[0] != "/vms/a/disk.avhdx" {
		t.Fatalf("hashed %v", hs.paths)
	}
	evs := s.all()
	half := len(evs) / 2
	if len(evs)%2 != 0 || evs[half-1].CycleManifest == nil {
		t.Fatalf("the manifest must come after the hashes: %d events", len(evs))
	}
	next := int64(0)
	for i, ev := range evs[:half-1] {
		sh := ev.SourceHashes
		if sh == nil || sh.VMID != testVM || sh.DiskID != testDisk || sh.Cycle != 9 || sh.ChunkBytes != sourceChunkBytes {
			t.Fatalf("event %d = %+v", i, ev)
		}
		if int64(sh.FirstChunk) != next || len(sh.SHA256) == 0 || len(sh.SHA256) > hashesPerEvent {
			t.Fatalf("event %d covers %d+%d, want it to start at %d", i, sh.FirstChunk, len(sh.SHA256), next)
		}
		if len(ev.ID) > 64 || ev.ID != evs[half+i].ID {
			t.Fatalf("event id %q must be at most 64 characters and stable across repeats (%q)", ev.ID, evs[half+i].ID)
		}
		next += int64(len(sh.SHA256))
	}
	if next != int64(hs.n) {
		t.Fatalf("%d hashes sent, want %d", next, hs.n)
	}
}

// TestHub_ReportCycle_finalWithoutDisk: a disk gone from the host fails
// the report instead of sending a manifest the hub cannot verify.
func TestHub_ReportCycle_finalWithoutDisk(t *testing.T) {
	s := &sender{}
	h := NewHub(testConfig(), Deps{Send: s, Host: vms{list: []host.VM{{ID: testVM}}}, Hasher: &hasher{n: 1, piece: 1}})
	m := replication.Manifest{VMID: testVM, Kind: replication.ManifestFinal, Cycle: 2, Previous: 1,
		Disks: []replication.ManifestDisk{{DiskID: testDisk, Object: "o"}}}
	if err := h.ReportCycle(context.Background(), m); err == nil || len(s.all()) != 0 {
		t.Fatalf("err %v, %d events sent", err, len(s.all()))
	}
}
