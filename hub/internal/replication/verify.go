package replication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"hvmigrate/hub/internal/state"
)

// verifyBuf is the most one read of the verification takes.
const verifyBuf = 4 << 20

// verifyStep waits for every disk's source hashes and the final cycle's
// recovery point, then hashes the point's snapshots chunk by chunk. A
// difference fails the migration, naming the ranges.
func (s *Service) verifyStep(ctx context.Context, r state.Replication, m *Migration) error {
	final, waiting := finalCycle(r, m)
	if waiting != "" {
		m.Waiting = waiting
		return nil
	}
	if r2, err := s.store.GetReplication(ctx, r.VMID); err != nil || r2.AppliedCycle < final {
		m.Waiting = fmt.Sprintf("waiting for the final cycle %d to be applied", final)
		return err
	}
	_, p, err := s.pointOf(ctx, r.VMID, final)
	if err != nil {
		m.Waiting = fmt.Sprintf("waiting for the recovery point of cycle %d", final)
		return nil
	}
	var diffs []string
	for _, pd := range p.Disks {
		d, err := s.verifyDisk(ctx, pd, diskSize(r, pd.DiskID), m.Hashes[pd.DiskID])
		if err != nil {
			return err
		}
		diffs = append(diffs, d...)
	}
	if err := s.hook(r.VMID, "verify"); err != nil {
		return err
	}
	m.FinalCycle, m.Step = final, StepVerified
	if len(diffs) > 0 {
		m.Step, m.Message = StepFailed, strings.Join(diffs, "; ")
		s.log.Error("migration verification failed", "vm_id", r.VMID, "ranges", m.Message)
	}
	return s.saveMigration(ctx, *m)
}

// finalCycle returns the cycle every disk's hashes name, or what is
// still missing.
func finalCycle(r state.Replication, m *Migration) (uint64, string) {
	var final uint64
	for _, d := range r.Disks {
		h, ok := m.Hashes[canonical(d.DiskID)]
		if !ok {
			return 0, fmt.Sprintf("waiting for the source hashes of disk %s", d.DiskID)
		}
		if slices.Contains(h.SHA256, missing) {
			return 0, fmt.Sprintf("waiting for more source hashes of disk %s", d.DiskID)
		}
		if final != 0 && h.Cycle != final {
			return 0, fmt.Sprintf("disks report hashes of cycles %d and %d", final, h.Cycle)
		}
		final = h.Cycle
	}
	return final, ""
}

// verifyDisk compares a snapshot with the source hashes and returns the
// differing ranges, adjacent chunks merged.
func (s *Service) verifyDisk(ctx context.Context, pd state.PointDisk, size int64, h DiskHashes) ([]string, error) {
	var out []string
	start := int64(-1)
	buf := make([]byte, min(h.ChunkBytes, verifyBuf))
	for i, want := range h.SHA256 {
		off := int64(i) * h.ChunkBytes
		n := min(h.ChunkBytes, size-off)
		got, zero, err := s.hashRange(ctx, pd, off, n, buf)
		if err != nil {
			return nil, err
		}
		same := got == want || (want == "" && zero)
		switch {
		case !same && start < 0:
			start = off
		case same && start >= 0:
			out, start = append(out, fmt.Sprintf("disk %s bytes %d-%d", pd.DiskID, start, off)), -1
		}
	}
	if start >= 0 {
		out = append(out, fmt.Sprintf("disk %s bytes %d-%d", pd.DiskID, start, size))
	}
	return out, nil
}

// hashRange hashes n bytes of a snapshot at off and says whether all were
// zero.
func (s *Service) hashRange(ctx context.Context, pd state.PointDisk, off, n int64, buf []byte) (string, bool, error) {
	sum := sha256.New()
	zero := true
	for done := int64(0); done < n; {
		p := buf[:min(int64(len(buf)), n-done)]
		if _, err := s.blobs.ReadAt(ctx, pd.Blob, pd.Snapshot, p, off+done); err != nil {
			return "", false, fmt.Errorf("read %s at %d: %w", pd.Blob, off+done, err)
		}
		for _, b := range p {
			if b != 0 {
				zero = false
				break
			}
		}
		sum.Write(p)
		done += int64(len(p))
	}
	return hex.EncodeToString(sum.Sum(nil)), zero, nil
}
