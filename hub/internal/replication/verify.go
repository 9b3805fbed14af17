package replication

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage"
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
	runs, err := s.diffChunks(ctx, pd, size, h)
	if err != nil {
		return nil, err
	}
	var out []string
	for i := 0; i < len(runs); i++ {
		start, end := runs[i].Start, runs[i].End
		for i+1 < len(runs) && runs[i+1].Start == end {
			i++
			end = runs[i].End
		}
		out = append(out, fmt.Sprintf("disk %s bytes %d-%d", pd.DiskID, start, end))
	}
	return out, nil
}

// chunkRun is a run of adjacent chunks of a blob that differ from the
// source, in bytes; Zero when the source reads as zeros in all of them.
type chunkRun struct {
	Start, End int64
	Zero       bool
}

// diffChunks hashes a blob (a snapshot, or the live blob when
// pd.Snapshot is empty) chunk by chunk and returns the runs that differ
// from the source hashes; a chunk the source hashed as unallocated
// matches an all-zero chunk. Verification and resync share it. It walks
// the blob's page ranges alongside: a chunk without a valid page reads
// as zeros and is not read, and of the others it reads only the span of
// their valid pages.
func (s *Service) diffChunks(ctx context.Context, pd state.PointDisk, size int64, h DiskHashes) ([]chunkRun, error) {
	var out []chunkRun
	buf := make([]byte, min(h.ChunkBytes, verifyBuf))
	pages := &pageCursor{blobs: s.blobs, pd: pd, end: roundPage(size)}
	zeros := map[int64]string{}
	for i, want := range h.SHA256 {
		off := int64(i) * h.ChunkBytes
		n := min(h.ChunkBytes, size-off)
		got, zero, err := s.hashChunk(ctx, pages, off, n, buf, zeros)
		if err != nil {
			return nil, err
		}
		if got == want || (want == "" && zero) {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].End == off && out[k].Zero == (want == "") {
			out[k].End = off + n
			continue
		}
		out = append(out, chunkRun{Start: off, End: off + n, Zero: want == ""})
	}
	return out, nil
}

// hashChunk hashes n bytes of a blob at off and says whether all were
// zero, reading only the span of the chunk's valid pages; zeros caches the
// hash of an all-zero chunk by length.
func (s *Service) hashChunk(ctx context.Context, pages *pageCursor, off, n int64, buf []byte, zeros map[int64]string) (string, bool, error) {
	lo, hi, ok, err := pages.span(ctx, off, off+n)
	if err != nil {
		return "", false, err
	}
	if !ok {
		if _, done := zeros[n]; !done {
			sum := sha256.New()
			writeZeros(sum, n, buf)
			zeros[n] = hex.EncodeToString(sum.Sum(nil))
		}
		return zeros[n], true, nil
	}
	sum := sha256.New()
	writeZeros(sum, lo-off, buf)
	zero, err := s.hashRange(ctx, pages.pd, sum, lo, hi-lo, buf)
	if err != nil {
		return "", false, err
	}
	writeZeros(sum, off+n-hi, buf)
	return hex.EncodeToString(sum.Sum(nil)), zero, nil
}

// hashRange feeds n bytes of a blob at off to sum and says whether all
// were zero.
func (s *Service) hashRange(ctx context.Context, pd state.PointDisk, sum hash.Hash, off, n int64, buf []byte) (bool, error) {
	zero := true
	for done := int64(0); done < n; {
		p := buf[:min(int64(len(buf)), n-done)]
		if _, err := s.blobs.ReadAt(ctx, pd.Blob, pd.Snapshot, p, off+done); err != nil {
			return false, fmt.Errorf("read %s at %d: %w", pd.Blob, off+done, err)
		}
		zero = zero && allZero(p)
		sum.Write(p)
		done += int64(len(p))
	}
	return zero, nil
}

// allZero reports whether every byte of p is zero.
func allZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// writeZeros feeds n zero bytes to sum, using buf as scratch.
func writeZeros(sum hash.Hash, n int64, buf []byte) {
	clear(buf)
	for ; n > 0; n -= min(n, int64(len(buf))) {
		sum.Write(buf[:min(n, int64(len(buf)))])
	}
}

// rangeBatch bounds the page ranges one listing call returns, so a
// fragmented disk of any size is walked in bounded memory.
const rangeBatch = 4096

// roundPage rounds n up to a whole page.
func roundPage(n int64) int64 {
	return (n + storage.PageSize - 1) / storage.PageSize * storage.PageSize
}

// pageCursor walks the valid page ranges of a blob by increasing offset,
// listing the next batch when the walk reaches the end of the last.
type pageCursor struct {
	blobs storage.Store
	pd    state.PointDisk
	end   int64           // end of the listed window
	rs    []storage.Range // listed ranges not yet passed
	next  int64           // the listing is complete below it
}

// span returns the smallest range [lo, hi) holding every valid page of
// [off, end), or ok false when there is none and [off, end) reads as
// zeros. Calls must come with non-decreasing off.
func (c *pageCursor) span(ctx context.Context, off, end int64) (lo, hi int64, ok bool, err error) {
	for c.next < min(end, c.end) {
		rs, next, err := c.blobs.PageRanges(ctx, c.pd.Blob, c.pd.Snapshot, c.next, c.end-c.next, rangeBatch)
		if err != nil {
			return 0, 0, false, fmt.Errorf("list page ranges of %s at %d: %w", c.pd.Blob, c.next, err)
		}
		if next <= c.next || next > c.end {
			return 0, 0, false, fmt.Errorf("list page ranges of %s at %d: listing ends at %d", c.pd.Blob, c.next, next)
		}
		c.rs, c.next = append(c.rs, rs...), next
	}
	for len(c.rs) > 0 && c.rs[0].End() <= off {
		c.rs = c.rs[1:]
	}
	for _, r := range c.rs {
		if r.Off >= end {
			break
		}
		if !ok {
			lo, ok = max(r.Off, off), true
		}
		hi = min(r.End(), end)
	}
	return lo, hi, ok, nil
}
