package simhost

import (
	"bytes"
	"context"
	"fmt"
)

// WriteDisk performs a guest write: req.Data at req.Offset, or req.Length
// bytes of req.Pattern (split into guest writes of Config.MaxWriteChunk).
// Offsets and lengths must be multiples of the disk's logical sector size
// and the range must lie inside the disk; the VM must be running.
func (d *Daemon) WriteDisk(ctx context.Context, req WriteRequest) error {
	v, err := d.lookup(req.VMID)
	if err != nil {
		return err
	}
	length := int64(len(req.Data))
	if req.Data == nil {
		length = req.Length
	} else if req.Length != 0 && req.Length != length {
		return fmt.Errorf("write: %w: give data or length, not both", ErrInvalid)
	}
	if err := v.checkWrite(req.Disk, req.Offset, length); err != nil {
		return err
	}
	if req.Data != nil {
		return v.write(req.Disk, req.Data, req.Offset)
	}
	chunk := bytes.Repeat([]byte{req.Pattern}, int(min(length, d.cfg.MaxWriteChunk)))
	for done := int64(0); done < length; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(length-done, int64(len(chunk)))
		if err := v.write(req.Disk, chunk[:n], req.Offset+done); err != nil {
			return err
		}
		done += n
	}
	return nil
}

// checkWrite validates a write's shape against the disk.
func (v *vm) checkWrite(index int, off, length int64) error {
	if index < 0 || index >= len(v.disks) {
		return fmt.Errorf("write: disk %d: %w: vm %s has disks 0 to %d", index, ErrNotFound, v.rec.ID, len(v.disks)-1)
	}
	r := v.disks[index].rec
	ss := int64(r.LogicalSectorSize)
	switch {
	case length <= 0:
		return fmt.Errorf("write: %w: length %d, want at least one sector", ErrInvalid, length)
	case off < 0 || off%ss != 0 || length%ss != 0:
		return fmt.Errorf("write: %w: offset %d and length %d must be multiples of the %d-byte logical sector", ErrInvalid, off, length, ss)
	case off > r.Size-length:
		return fmt.Errorf("write: %w: [%d, %d) ends past the end of disk %d (%d bytes)", ErrOutOfRange, off, off+length, index, r.Size)
	}
	return nil
}

// write is one guest write: to the disk, then to its log, in one order.
func (v *vm) write(index int, p []byte, off int64) error {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.rec.Power != PowerRunning {
		return fmt.Errorf("write to vm %s: %w (power %s): start it first", v.rec.ID, ErrNotRunning, v.rec.Power)
	}
	dk := v.disks[index]
	dk.mu.Lock()
	defer dk.mu.Unlock()
	if dk.img == nil {
		return fmt.Errorf("write to vm %s: %w: disks closed", v.rec.ID, ErrClosed)
	}
	if _, err := dk.img.WriteAt(p, off); err != nil {
		return fmt.Errorf("write disk %d at %d: %w", index, off, err)
	}
	if dk.log != nil && dk.logErr == nil {
		if _, err := dk.log.WriteAt(p, off); err != nil {
			dk.logErr = err
			v.log.Error("change tracking failed; the vm needs a resync", "disk", index, "error", err)
		}
	}
	return nil
}
