package replication

import "fmt"

// ManifestResync is the manifest of a resync that sent only the chunks
// differing from the replica: one resync object per disk, applied on top
// of the replica like a cycle.
const ManifestResync ManifestKind = "resync"

// ResyncDisk sends the chunks of one frozen disk that differ from the
// replica at Cycle-1, as the disk's resync object of Cycle: the agent
// hashes the frozen disk, the hub compares and names the differing
// ranges, the agent uploads them. Yields CopyProgress events, then
// CopyDone (Object is the resync object, Total the bytes sent), or
// FullCopyNeeded, or SourceLost.
type ResyncDisk struct {
	Generation uint64
	DiskID     string
	Size       int64
	Frozen     string
	JobID      string
	Cycle      uint64
	Threads    int
}

// Name implements Action.
func (ResyncDisk) Name() string { return "resync_disk" }

// FullCopyNeeded reports that the hub cannot compare the replica (it was
// never completely copied, or is gone): the generation copies every disk
// in full instead.
type FullCopyNeeded struct {
	Generation uint64
	Reason     string
}

// Name implements Event.
func (FullCopyNeeded) Name() string { return "full_copy_needed" }

// ResyncJobID is the agent job id of a disk's resync upload in a
// generation: the same after a provider restart, so the provider
// re-attaches to it.
func ResyncJobID(vmID, diskID string, generation uint64) string {
	return fmt.Sprintf("resync-%s-%s-g%d", vmID, diskID, generation)
}

// diskAction is the action that brings one disk of the generation to the
// replica: a chunk-hash resync, or a full copy.
func (s *State) diskAction(d *Disk) Action {
	if s.DiffResync {
		return ResyncDisk{Generation: s.Generation, DiskID: d.ID, Size: d.Size, Frozen: d.Frozen,
			JobID: ResyncJobID(s.VMID, d.ID, s.Generation), Cycle: s.BaseCycle, Threads: s.Policy.Threads}
	}
	return CopyDisk{Generation: s.Generation, DiskID: d.ID, Frozen: d.Frozen,
		JobID: CopyJobID(s.VMID, d.ID, s.Generation), Threads: s.Policy.Threads}
}

// fullCopyNeeded turns the generation's resync into full copies of every
// disk.
func (s *State) fullCopyNeeded(e FullCopyNeeded) ([]Action, error) {
	if s.Phase != PhaseResyncing || s.CopyStage != StageCopying || !s.DiffResync {
		return nil, notIn(s)
	}
	if e.Generation != s.Generation {
		return nil, fmt.Errorf("%w: full copy of generation %d, copying %d", ErrStale, e.Generation, s.Generation)
	}
	s.DiffResync = false
	for i := range s.Disks {
		d := &s.Disks[i]
		d.Base, d.Copy, d.BytesDone, d.BytesTotal = "", DiskPending, 0, 0
	}
	acts := s.copyActions()
	return append(acts, Health{Level: "warn", Message: "resync copies every disk in full: " + e.Reason}), nil
}
