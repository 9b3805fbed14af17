package replication

import (
	"errors"
	"testing"
)

// TestConfigNext_resyncSendsDifferingChunks: a resync of a VM whose
// replica took a cycle resyncs disk by disk by chunk hashes into the
// resync's cycle, merges the checkpoint (acknowledging the resync) and
// reports a resync manifest naming the resync objects.
func TestConfigNext_resyncSendsDifferingChunks(t *testing.T) {
	s := walk(t, toResyncing()...)
	if !s.DiffResync || s.BaseCycle != 2 {
		t.Fatalf("diff resync %v, base cycle %d", s.DiffResync, s.BaseCycle)
	}
	cfg := testConfig()
	var acts []Action
	var err error
	s, acts, err = cfg.Next(walk(t, toResyncRequired()...), CheckpointCreated{Generation: 2, Frozen: frozen()})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"d0", "d1"} {
		a, ok := acts[0].(ResyncDisk)
		if len(acts) != 1 || !ok {
			t.Fatalf("disk %s: actions %v, want one resync_disk", id, actionNames(acts))
		}
		want := ResyncDisk{Generation: 2, DiskID: id, Size: s.Disks[i].Size, Frozen: frozen()[id], JobID: ResyncJobID(s.VMID, id, 2), Cycle: 2}
		if a != want {
			t.Fatalf("action %+v, want %+v", a, want)
		}
		s, acts, err = cfg.Next(s, CopyDone{Generation: 2, DiskID: id, Total: int64(1000 * (i + 1)), Object: "vm/x/disk/" + id + "/resync/2.delta"})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := acts[0].(DeleteCheckpoint); len(acts) != 1 || !ok {
		t.Fatalf("after the disks: %v, want delete_checkpoint", acts)
	}
	s, acts, err = cfg.Next(s, CheckpointDeleted{Generation: 2})
	if err != nil {
		t.Fatal(err)
	}
	r, ok := acts[0].(Report)
	if !ok || r.Manifest.Kind != ManifestResync || r.Manifest.Cycle != 2 || r.Manifest.Previous != 1 ||
		len(r.Manifest.Disks) != 2 || r.Manifest.Disks[1].Object != "vm/x/disk/d1/resync/2.delta" || r.Manifest.Disks[1].Bytes != 2000 {
		t.Fatalf("report %+v", acts)
	}
	s, _, err = cfg.Next(s, BaseReported{Cycle: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Phase != PhaseDeltaReplication || s.LastCycle != 2 || s.DiffResync {
		t.Fatalf("after the report: phase %s, last cycle %d, diff resync %v", s.Phase, s.LastCycle, s.DiffResync)
	}
}

// TestConfigNext_fullCopyNeeded: when the hub cannot compare, the
// generation copies every disk in full, even one already resynced, and
// reports a base.
func TestConfigNext_fullCopyNeeded(t *testing.T) {
	cfg := testConfig()
	s := walk(t, append(toResyncing(), CopyDone{Generation: 2, DiskID: "d0", Total: 10, Object: "r0"})...)
	if _, _, err := cfg.Next(s, FullCopyNeeded{Generation: 1, Reason: "old"}); !errors.Is(err, ErrStale) {
		t.Fatalf("stale generation: %v, want ErrStale", err)
	}
	n, acts, err := cfg.Next(s, FullCopyNeeded{Generation: 2, Reason: "replica never copied"})
	if err != nil {
		t.Fatal(err)
	}
	if got := actionNames(acts); len(got) != 2 || got[0] != "copy_disk" || got[1] != "health" {
		t.Fatalf("actions %v, want copy_disk and health", got)
	}
	if c := acts[0].(CopyDisk); c.DiskID != "d0" || c.JobID != CopyJobID(n.VMID, "d0", 2) || n.DiffResync {
		t.Fatalf("copy %+v, diff resync %v", c, n.DiffResync)
	}
	if n.baseManifest().Kind != ManifestBase {
		t.Fatalf("manifest kind %s after a full copy", n.baseManifest().Kind)
	}
	if _, _, err := cfg.Next(n, FullCopyNeeded{Generation: 2, Reason: "again"}); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("second full copy: %v, want ErrInvalidTransition", err)
	}
	if _, _, err := cfg.Next(walk(t, toDelta()...), FullCopyNeeded{Generation: 1}); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("full copy outside a resync: %v, want ErrInvalidTransition", err)
	}
}

// TestConfigNext_firstCopyIsNeverADiff: the initial copy has no replica
// to compare with.
func TestConfigNext_firstCopyIsNeverADiff(t *testing.T) {
	s := walk(t, toCopying()...)
	if s.DiffResync || s.diskAction(&s.Disks[0]).Name() != "copy_disk" {
		t.Fatalf("initial copy: diff resync %v", s.DiffResync)
	}
}
