package applier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// spooled is one verified delta object in a local file.
type spooled struct {
	f    *os.File
	size int64
	r    *delta.Reader
}

// spools are the objects of one Apply.
type spools []*spooled

// close removes every spool file.
func (s spools) close() {
	for _, sp := range s {
		sp.close()
	}
}

func (sp *spooled) close() {
	sp.f.Close()
	os.Remove(sp.f.Name())
}

// fetchAll spools and verifies the objects of the pending disks, stopping
// at the first that is missing or invalid.
func (a *Applier) fetchAll(ctx context.Context, vm *VMCycle, pending []int, res *Result) (spools, error) {
	out := make(spools, 0, len(pending))
	for _, idx := range pending {
		sp, err := a.fetch(ctx, vm, &vm.Disks[idx], res)
		if err != nil {
			return out, err
		}
		out = append(out, sp)
	}
	return out, nil
}

// fetch copies one disk's delta object to a spool file and verifies it.
func (a *Applier) fetch(ctx context.Context, vm *VMCycle, d *DiskCycle, res *Result) (*spooled, error) {
	invalid := func(reason string, err error) error {
		return &DiskError{VMID: vm.VMID, DiskID: d.DiskID, Cycle: vm.Cycle, Class: ErrObjectInvalid, Reason: reason, Err: err}
	}
	p, err := a.store.Properties(ctx, d.DeltaBlob, "")
	switch {
	case errors.Is(err, storeerr.ErrNotFound):
		return nil, &DiskError{VMID: vm.VMID, DiskID: d.DiskID, Cycle: vm.Cycle, Class: ErrObjectMissing,
			Reason: "no delta object " + d.DeltaBlob}
	case err != nil:
		return nil, fmt.Errorf("delta object of disk %x: %w", d.DiskID, err)
	case p.Kind != storage.KindBlock:
		return nil, invalid(fmt.Sprintf("delta object is a %s blob", p.Kind), nil)
	case p.Size > maxObjectSize(d.VirtualSize):
		return nil, invalid(fmt.Sprintf("delta object of %d bytes is larger than any object for a disk of %d bytes", p.Size, d.VirtualSize), nil)
	}
	f, err := os.CreateTemp(a.cfg.SpoolDir, "hvm-apply-*")
	if err != nil {
		return nil, fmt.Errorf("spool delta object: %w", err)
	}
	sp := &spooled{f: f, size: p.Size}
	if err := a.check(ctx, vm, d, sp, res, invalid); err != nil {
		sp.close()
		return nil, err
	}
	return sp, nil
}

// maxObjectSize bounds a valid object: its extents cannot hold more than
// the disk, and the table has at most MaxExtents entries.
func maxObjectSize(virtualSize int64) int64 {
	return delta.HeaderSize + delta.FooterSize + virtualSize + delta.EntrySize*delta.MaxExtents
}

// check fills the spool file, runs delta.Verify over it and compares the
// header with what the caller expects.
func (a *Applier) check(ctx context.Context, vm *VMCycle, d *DiskCycle, sp *spooled, res *Result, invalid func(string, error) error) error {
	start := time.Now()
	err := a.copyObject(ctx, d.DeltaBlob, sp)
	res.Download += time.Since(start)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return invalid("object shorter than its listed size", err)
		}
		return err
	}
	start = time.Now()
	err = delta.Verify(sp.f, sp.size)
	res.Verify += time.Since(start)
	if err != nil {
		if isFormatError(err) {
			return invalid("verification failed", err)
		}
		return fmt.Errorf("read spooled delta object: %w", err)
	}
	r, err := delta.NewReader(sp.f, sp.size)
	if err != nil {
		return invalid("reopen failed", err)
	}
	if reason := headerMismatch(r.Header(), vm, d); reason != "" {
		return invalid(reason, nil)
	}
	sp.r = r
	return nil
}

// isFormatError reports whether err is one of the delta format's classes.
func isFormatError(err error) bool {
	for _, c := range []error{delta.ErrBadMagic, delta.ErrUnsupportedVersion, delta.ErrUnsupported,
		delta.ErrChecksum, delta.ErrCorrupt, delta.ErrTooLarge, delta.ErrInvalid} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// headerMismatch returns why h is not the object the caller expects, or "".
func headerMismatch(h delta.Header, vm *VMCycle, d *DiskCycle) string {
	switch {
	case h.Kind != delta.KindCycle && h.Kind != delta.KindResync:
		return fmt.Sprintf("object kind %d, want a cycle or resync delta", h.Kind)
	case h.VMID != vm.VMID:
		return fmt.Sprintf("header names vm %x", h.VMID)
	case h.DiskID != d.DiskID:
		return fmt.Sprintf("header names disk %x", h.DiskID)
	case h.Cycle != vm.Cycle:
		return fmt.Sprintf("header names cycle %d", h.Cycle)
	case h.PrevCycle != vm.Cycle-1:
		return fmt.Sprintf("header previous cycle is %d, want %d", h.PrevCycle, vm.Cycle-1)
	case h.VirtualSize != d.VirtualSize:
		return fmt.Sprintf("header virtual size is %d, want %d", h.VirtualSize, d.VirtualSize)
	}
	return ""
}

// copyBuffer is the buffer of one spool stream.
const copyBuffer = 1 << 20

// fetchAttempts bounds the tries of one range whose stream broke.
const fetchAttempts = 3

// copyObject copies the remote object into the spool file with
// FetchStreams ranged reads of FetchChunk bytes at a time.
func (a *Applier) copyObject(ctx context.Context, name string, sp *spooled) error {
	chunk := a.cfg.FetchChunk
	chunks := (sp.size + chunk - 1) / chunk
	next := make(chan int64, chunks)
	for i := range chunks {
		next <- i * chunk
	}
	close(next)
	g := newGroup(ctx)
	for range min(int64(a.cfg.FetchStreams), chunks) {
		g.Go(func(ctx context.Context) error {
			buf := make([]byte, copyBuffer)
			for off := range next {
				if err := a.copyRange(ctx, name, sp, buf, off, min(chunk, sp.size-off)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// copyRange copies n bytes at off, trying again when the stream breaks.
func (a *Applier) copyRange(ctx context.Context, name string, sp *spooled, buf []byte, off, n int64) error {
	var err error
	for range fetchAttempts {
		if err = a.copyOnce(ctx, name, sp, buf, off, n); err == nil || !storeerr.Retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// copyOnce streams one range into the spool file.
func (a *Applier) copyOnce(ctx context.Context, name string, sp *spooled, buf []byte, off, n int64) error {
	rc, err := a.store.OpenRange(ctx, name, "", off, n)
	if err != nil {
		return fmt.Errorf("read delta object %s at %d: %w", name, off, err)
	}
	defer rc.Close()
	got, err := io.CopyBuffer(io.NewOffsetWriter(sp.f, off), io.LimitReader(rc, n), buf)
	if err != nil {
		return fmt.Errorf("copy delta object %s at %d: %w", name, off, err)
	}
	if got < n {
		return fmt.Errorf("read delta object %s at %d: %d of %d bytes: %w", name, off, got, n, io.ErrUnexpectedEOF)
	}
	return nil
}
