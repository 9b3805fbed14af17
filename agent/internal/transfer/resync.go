package transfer

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/vdisk"
)

// scanBlock is the granularity of the zero scan of a resync's ranges:
// an all-zero block inside a differing range is sent as a zero extent.
const scanBlock = 64 << 10

// RunResyncUpload reads the differing ranges of a frozen disk and uploads
// them as one delta object of kind resync (block blob, staged blocks, one
// commit), resuming from the journal like a cycle upload.
func (r *Runner) RunResyncUpload(ctx context.Context, spec jobs.ResyncUpload, j *jobstore.Journal, p *upload.Progress) error {
	img, err := openDisk(spec.DiskPath)
	if err != nil {
		return err
	}
	defer img.Close()
	store, name, err := r.openStore(spec.Target, spec.VMID, p)
	if err != nil {
		return err
	}
	src := &resyncSource{spec: spec, img: img, prog: p}
	if err := src.open(); err != nil {
		return classifySource(err)
	}
	o := &upload.Object{Store: store, Blob: name, Journal: j, BlockSize: r.cfg.BlockSize,
		Threads: r.threads(spec.Threads), Prog: p, Produce: src.produce}
	if err := o.Run(ctx); err != nil {
		return classifySource(fmt.Errorf("disk %s: %w", spec.DiskID, err))
	}
	return nil
}

// resyncSource turns the ranges of a frozen disk into a resync delta
// object. The plan comes from a first pass over the ranges (zero blocks
// become zero extents), the data from a second one; the frozen disk does
// not change, so both passes, and every rerun, see the same bytes.
type resyncSource struct {
	spec jobs.ResyncUpload
	img  vdisk.Image
	prog *upload.Progress

	hdr  delta.Header
	plan []delta.Extent
	sent int64 // data bytes of the plan
}

// open checks the ranges against the disk and plans the object.
func (s *resyncSource) open() error {
	vm, err := parseID(s.spec.VMID)
	if err != nil {
		return fmt.Errorf("%w: VM id: %w", jobs.ErrInvalid, err)
	}
	disk, err := parseID(s.spec.DiskID)
	if err != nil {
		return fmt.Errorf("%w: disk id: %w", jobs.ErrInvalid, err)
	}
	s.hdr = delta.Header{Kind: delta.KindResync, VMID: vm, DiskID: disk, Cycle: s.spec.Cycle, PrevCycle: s.spec.Previous,
		VirtualSize: s.img.Size(), Compression: delta.CompressionZstd}
	buf := make([]byte, scanBlock)
	for _, g := range s.spec.Ranges {
		if g.Offset+g.Length > s.img.Size() {
			return fmt.Errorf("%w: range at %d of %d bytes ends past the disk's %d bytes", jobs.ErrInvalid, g.Offset, g.Length, s.img.Size())
		}
		if g.Zero {
			s.add(delta.Extent{Offset: g.Offset, Length: g.Length, Kind: delta.Zero})
			continue
		}
		if err := s.scan(g, buf); err != nil {
			return err
		}
	}
	return nil
}

// scan plans one range block by block.
func (s *resyncSource) scan(g jobs.Range, buf []byte) error {
	for off := g.Offset; off < g.Offset+g.Length; {
		n := min(int64(len(buf)), g.Offset+g.Length-off)
		p := buf[:n]
		if _, err := s.img.ReadAt(p, off); err != nil && err != io.EOF {
			return fmt.Errorf("%w: read disk at %d: %w", upload.ErrSource, off, err)
		}
		kind := delta.Data
		if isZero(p) {
			kind = delta.Zero
		}
		s.add(delta.Extent{Offset: off, Length: n, Kind: kind})
		off += n
	}
	return nil
}

// add appends an extent, merging it with the previous one when they touch
// and are of one kind.
func (s *resyncSource) add(e delta.Extent) {
	if e.Kind == delta.Data {
		s.sent += e.Length
	}
	if k := len(s.plan) - 1; k >= 0 && s.plan[k].Kind == e.Kind && s.plan[k].End() == e.Offset {
		s.plan[k].Length += e.Length
		return
	}
	s.plan = append(s.plan, e)
}

// produce writes the object: the same bytes on every run.
func (s *resyncSource) produce(w io.Writer) error {
	var total int64
	for _, g := range s.spec.Ranges {
		total += g.Length
	}
	s.prog.Total.Store(total)
	s.prog.Skipped.Store(total - s.sent)
	s.prog.Done.Store(total - s.sent)
	dw, err := delta.NewWriter(w, s.hdr, s.plan)
	if err != nil {
		return fmt.Errorf("%w: %w", jobs.ErrInvalid, err)
	}
	for _, e := range s.plan {
		if e.Kind != delta.Data {
			continue
		}
		n, err := dw.ReadFrom(io.NewSectionReader(s.img, e.Offset, e.Length))
		if err != nil {
			return fmt.Errorf("%w: disk data at offset %d: %w", upload.ErrSource, e.Offset, err)
		}
		s.prog.Done.Add(n)
	}
	return closeDelta(dw, s.prog)
}

// isZero reports whether p holds only zero bytes.
func isZero(p []byte) bool {
	var zero [512]byte
	for len(p) > 0 {
		n := min(len(p), len(zero))
		if !bytes.Equal(p[:n], zero[:n]) {
			return false
		}
		p = p[n:]
	}
	return true
}
