package replication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// KindResync is the operation kind of a disk's chunk-hash resync.
const KindResync = "resync"

// A resync's steps: hashes arriving, ranges sent to the host.
const (
	resyncHashing  = "hashing"
	resyncAnswered = "answered"
)

// ResyncBlob names a disk's resync delta object of a cycle inside
// CyclesContainer: the differing chunks a resync sends in place of the
// cycle's delta object.
func (Layout) ResyncBlob(vm, disk delta.ID, cycle uint64) string {
	return "vm/" + hexID(vm) + "/disk/" + hexID(disk) + "/resync/" + strconv.FormatUint(cycle, 10) + ".delta"
}

// diskResync is the durable record of one disk's resync request: the
// source hashes as they arrive, then the answer.
type diskResync struct {
	VMID      string     `json:"vm_id"`
	DiskID    string     `json:"disk_id"`
	RequestID string     `json:"request_id"`
	Hashes    DiskHashes `json:"hashes"`
	// Ranges and FullCopy are the answer, once sent.
	Ranges   int   `json:"ranges,omitempty"`
	Bytes    int64 `json:"bytes,omitempty"`
	FullCopy bool  `json:"full_copy,omitempty"`
	// Base is the cycle the replica stood at when it was compared, when
	// that is below the resync's cycle-1: the cycles between were
	// reported but could not be applied (a held VM), and the resync
	// object replaces them.
	Base uint64 `json:"base,omitempty"`
}

func resyncID(vmID, diskID string) string { return "rsy-" + vmID + "-" + canonical(diskID) }

// commandKey names the answer's commands: short, and the same for a
// repeated answer to one request, so the host runs it once.
func (rec diskResync) commandKey() string {
	sum := sha256.Sum256([]byte(rec.VMID + "/" + canonical(rec.DiskID) + "/" + rec.RequestID))
	return hex.EncodeToString(sum[:12])
}

// onResyncHashes records a piece of a disk's source hashes for a resync;
// a piece of another request starts the disk's hashes afresh. The worker
// answers once every chunk is in.
func (s *Service) onResyncHashes(ctx context.Context, h *stream.ResyncHashes) error {
	r, err := s.store.GetReplication(ctx, h.VMID)
	if err != nil {
		return err
	}
	size := diskSize(r, canonical(h.DiskID))
	piece := DiskHashes{Cycle: h.Cycle, ChunkBytes: int64(min(h.ChunkBytes, 1<<40)), SHA256: h.SHA256}
	if err := piece.validate(size, int64(min(h.FirstChunk, 1<<40))); err != nil {
		return fmt.Errorf("resync hashes of disk %s: %w", h.DiskID, err)
	}
	rec, step, err := s.loadResync(ctx, h.VMID, h.DiskID)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if rec.RequestID != h.RequestID || rec.Hashes.Cycle != piece.Cycle || rec.Hashes.ChunkBytes != piece.ChunkBytes {
		rec = diskResync{VMID: h.VMID, DiskID: h.DiskID, RequestID: h.RequestID, Hashes: DiskHashes{Cycle: piece.Cycle,
			ChunkBytes: piece.ChunkBytes, SHA256: slices.Repeat([]string{missing}, int((size+piece.ChunkBytes-1)/piece.ChunkBytes))}}
		step = resyncHashing
	}
	if step == resyncAnswered {
		return nil // a repeat of an answered request
	}
	copy(rec.Hashes.SHA256[h.FirstChunk:], piece.SHA256)
	if err := s.saveResync(ctx, rec, resyncHashing); err != nil {
		return err
	}
	s.kick(h.VMID)
	return nil
}

// answerResyncs answers every resync of a VM whose hashes are complete
// and whose replica stands at the cycle before the resync's.
func (s *Service) answerResyncs(ctx context.Context, vmID string) {
	ops, err := s.store.Operations(ctx, vmID, KindResync)
	if err != nil {
		s.log.Warn("list resyncs", "vm_id", vmID, "error", err)
		return
	}
	for _, op := range ops {
		if op.Step != resyncHashing {
			continue
		}
		var rec diskResync
		if err := json.Unmarshal([]byte(op.Detail), &rec); err != nil {
			s.log.Warn("resync record unreadable", "vm_id", vmID, "operation", op.ID, "error", err)
			continue
		}
		if slices.Contains(rec.Hashes.SHA256, missing) {
			continue
		}
		if err := s.answerResync(ctx, rec); err != nil {
			s.log.Warn("resync not answered yet", "vm_id", vmID, "disk_id", rec.DiskID, "error", err)
		}
	}
}

// answerResync compares the replica at cycle-1 with the source hashes and
// sends the differing ranges with the resync object's grant; a replica
// that cannot be compared gets a full copy instead.
func (s *Service) answerResync(ctx context.Context, rec diskResync) error {
	r, err := s.store.GetReplication(ctx, rec.VMID)
	if err != nil {
		return err
	}
	prev := rec.Hashes.Cycle - 1
	switch {
	case r.AppliedCycle == 0 || r.AppliedCycle > prev:
		return s.resyncFullCopy(ctx, r, rec, fmt.Sprintf("replica stands at cycle %d, not %d", r.AppliedCycle, prev))
	case r.AppliedCycle < prev && (r.State == state.ReplInitialCopy || r.Health != "held"):
		return s.applyFirst(ctx, r) // the reported cycles apply first
	case r.AppliedCycle < prev:
		// The VM is held on a cycle that cannot apply (an invalid object,
		// or a gap): compare the replica where it stands, and let the
		// resync object replace the cycles between.
		rec.Base = r.AppliedCycle
	}
	pd, err := s.replicaAt(r, rec.DiskID)
	if err != nil {
		return err
	}
	runs, err := s.diffChunks(ctx, pd, diskSize(r, canonical(rec.DiskID)), rec.Hashes)
	if errors.Is(err, storeerr.ErrNotFound) {
		return s.resyncFullCopy(ctx, r, rec, "the replica is gone")
	}
	if err != nil {
		return fmt.Errorf("compare replica of disk %s: %w", rec.DiskID, err)
	}
	grant, err := s.resyncGrant(r, rec)
	if err != nil {
		return err
	}
	parts := splitRuns(runs, stream.MaxRangesPerCommand)
	for i, part := range parts {
		cmd := stream.Command{ID: fmt.Sprintf("rsr-%s-%d", rec.commandKey(), i), ResyncRanges: &stream.ResyncRanges{
			VMID: rec.VMID, DiskID: rec.DiskID, Cycle: rec.Hashes.Cycle, RequestID: rec.RequestID,
			Part: uint32(i), Parts: uint32(len(parts)), Ranges: part, Grant: &grant}}
		if err := s.enqueue(ctx, r.HostID, cmd); err != nil {
			return fmt.Errorf("queue resync ranges for vm %s: %w", rec.VMID, err)
		}
	}
	for _, run := range runs {
		rec.Bytes += run.End - run.Start
	}
	rec.Ranges = len(runs)
	s.log.Info("resync compared", "vm_id", rec.VMID, "disk_id", rec.DiskID, "cycle", rec.Hashes.Cycle,
		"against_cycle", r.AppliedCycle, "chunks", len(rec.Hashes.SHA256), "differing_bytes", rec.Bytes, "ranges", rec.Ranges)
	return s.saveResync(ctx, rec, resyncAnswered)
}

// applyFirst lets the worker apply the cycles before a resync's: a VM an
// operator sent back to its initial copy (hvmctl resync) that had cycles
// applied resyncs by chunks, so its reported cycles apply as usual.
func (s *Service) applyFirst(ctx context.Context, r state.Replication) error {
	if r.State != state.ReplInitialCopy {
		return nil
	}
	_, err := s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		if r.State == state.ReplInitialCopy && r.AppliedCycle > 0 {
			r.State, r.UpdatedAt = state.ReplReplicating, s.cfg.Now()
		}
		return nil
	})
	if err == nil {
		s.kick(r.VMID)
	}
	return err
}

// replicaAt returns the blob to compare: the replica itself, which the
// resync object will be applied to. It stands at cycle (nothing applies
// the next cycle before the host reports it, after this answer); unlike
// the recovery point of cycle, it also shows what an abandoned full copy
// may have written since.
func (s *Service) replicaAt(r state.Replication, diskID string) (state.PointDisk, error) {
	vmID, err := ParseID(r.VMID)
	if err != nil {
		return state.PointDisk{}, err
	}
	disk, err := ParseID(diskID)
	if err != nil {
		return state.PointDisk{}, err
	}
	return state.PointDisk{DiskID: diskID, Blob: full(s.layout.ReplicasContainer(r.ProjectID), s.layout.ReplicaBlob(vmID, disk))}, nil
}

// resyncGrant signs the create grant on the disk's resync object.
func (s *Service) resyncGrant(r state.Replication, rec diskResync) (stream.SASGrant, error) {
	vmID, err := ParseID(r.VMID)
	if err != nil {
		return stream.SASGrant{}, err
	}
	diskID, err := ParseID(rec.DiskID)
	if err != nil {
		return stream.SASGrant{}, err
	}
	g, err := s.issuer.Cycle(s.layout.CyclesContainer(r.ProjectID), s.layout.ResyncBlob(vmID, diskID, rec.Hashes.Cycle))
	if err != nil {
		return stream.SASGrant{}, fmt.Errorf("grant resync object of disk %s: %w", rec.DiskID, err)
	}
	return stream.SASGrant{DiskID: rec.DiskID, Purpose: g.Purpose, URL: g.URL, ExpiresAt: g.ExpiresAt}, nil
}

// resyncFullCopy tells the host to copy the disk in full: the replica
// grants are issued again (as for the initial copy) before the answer.
func (s *Service) resyncFullCopy(ctx context.Context, r state.Replication, rec diskResync, why string) error {
	r, err := s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		r.State, r.UpdatedAt = state.ReplInitialCopy, s.cfg.Now()
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.refreshGrants(ctx, r); err != nil {
		return err
	}
	cmd := stream.Command{ID: fmt.Sprintf("rsr-%s-full", rec.commandKey()), ResyncRanges: &stream.ResyncRanges{
		VMID: rec.VMID, DiskID: rec.DiskID, Cycle: rec.Hashes.Cycle, RequestID: rec.RequestID, FullCopy: true}}
	if err := s.enqueue(ctx, r.HostID, cmd); err != nil {
		return fmt.Errorf("queue full copy for vm %s: %w", rec.VMID, err)
	}
	s.log.Warn("resync falls back to a full copy", "vm_id", rec.VMID, "disk_id", rec.DiskID, "reason", why)
	rec.FullCopy = true
	return s.saveResync(ctx, rec, resyncAnswered)
}

// splitRuns turns the differing runs into byte ranges, at most per in a
// part; no runs is one empty part, so the host always gets an answer.
func splitRuns(runs []chunkRun, per int) [][]stream.ByteRange {
	parts := [][]stream.ByteRange{nil}
	for _, r := range runs {
		if len(parts[len(parts)-1]) == per {
			parts = append(parts, nil)
		}
		k := len(parts) - 1
		parts[k] = append(parts[k], stream.ByteRange{Offset: uint64(r.Start), Length: uint64(r.End - r.Start), Zero: r.Zero})
	}
	return parts
}

func (s *Service) loadResync(ctx context.Context, vmID, diskID string) (diskResync, string, error) {
	op, err := s.store.GetOperation(ctx, resyncID(vmID, diskID))
	if err != nil {
		return diskResync{}, "", err
	}
	var rec diskResync
	if err := json.Unmarshal([]byte(op.Detail), &rec); err != nil {
		return rec, "", fmt.Errorf("resync of vm %s disk %s: %w", vmID, diskID, err)
	}
	return rec, op.Step, nil
}

func (s *Service) saveResync(ctx context.Context, rec diskResync, step string) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return s.store.PutOperation(ctx, state.Operation{ID: resyncID(rec.VMID, rec.DiskID), VMID: rec.VMID, Kind: KindResync,
		Step: step, Detail: string(b), CreatedAt: now, UpdatedAt: now})
}

// resyncBase returns the cycle a held VM's replicas were compared at by an
// answered resync that skips past the next cycle, and that resync's cycle;
// ok is false when no answered resync replaces cycles after applied.
func (s *Service) resyncBase(ctx context.Context, vmID string, applied uint64) (cycle uint64, ok bool, err error) {
	ops, err := s.store.Operations(ctx, vmID, KindResync)
	if err != nil {
		return 0, false, err
	}
	for _, op := range ops {
		if op.Step != resyncAnswered {
			continue
		}
		var rec diskResync
		if err := json.Unmarshal([]byte(op.Detail), &rec); err != nil {
			continue
		}
		if rec.Base == applied && !rec.FullCopy && rec.Hashes.Cycle > applied+1 {
			cycle = max(cycle, rec.Hashes.Cycle)
		}
	}
	return cycle, cycle != 0, nil
}
