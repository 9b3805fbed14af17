package vhdx

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sync/atomic"

	"hvmigrate/shared/vdisk"
)

var _ vdisk.Image = (*Disk)(nil)

// Disk is a VHDX file opened read-only with its parent chain. It is safe for
// concurrent ReadAt calls.
type Disk struct {
	top    *layer
	closed atomic.Bool
}

// Open opens a fixed, dynamic or differencing VHDX file read-only, replays
// an active log in memory, and opens and checks its parent chain.
func Open(path string) (*Disk, error) {
	l, err := openLayer(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if err := openChain(l); err != nil {
		l.close()
		return nil, err
	}
	return &Disk{top: l}, nil
}

// Close closes every file of the chain.
func (d *Disk) Close() error {
	if d.closed.Swap(true) {
		return ErrClosed
	}
	return d.top.close()
}

// Size is the virtual size in bytes.
func (d *Disk) Size() int64 { return d.top.p.size }

// LogicalSectorSize is 512 or 4096.
func (d *Disk) LogicalSectorSize() int { return int(d.top.p.logical) }

// PhysicalSectorSize is 512 or 4096.
func (d *Disk) PhysicalSectorSize() int { return int(d.top.p.physical) }

// ReadAt reads the virtual disk; reads past Size return io.EOF.
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	if d.closed.Load() {
		return 0, ErrClosed
	}
	return readImage(d.top, p, off)
}

// readImage implements io.ReaderAt semantics over a layer.
func readImage(l *layer, p []byte, off int64) (int, error) {
	if l == nil {
		return 0, ErrClosed
	}
	if off < 0 {
		return 0, fmt.Errorf("vhdx: %s: negative offset %d", l.path, off)
	}
	size := l.p.size
	if off >= size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), size-off))
	if err := l.readAt(p[:n], off); err != nil {
		return 0, withPath(l.path, err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Extents yields data and zero extents covering the disk, resolved through
// the chain at sector bitmap granularity, without reading payload data.
func (d *Disk) Extents() iter.Seq2[vdisk.Extent, error] {
	if d.closed.Load() {
		return layerExtents(nil)
	}
	return layerExtents(d.top)
}

// layerExtents is the Extents iterator of a layer.
func layerExtents(l *layer) iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		if l == nil {
			yield(vdisk.Extent{}, ErrClosed)
			return
		}
		s := &extSink{yield: yield}
		err := l.extentsOf(0, l.p.size, s)
		if err == nil {
			err = s.flush()
		}
		if err != nil && !errors.Is(err, errStop) {
			yield(vdisk.Extent{}, withPath(l.path, err))
		}
	}
}

// Identity returns the disk id and the write GUIDs of the top file.
func (d *Disk) Identity() vdisk.Identity { return d.top.identity() }

// Describe tells the format, layout and parent chain.
func (d *Disk) Describe() vdisk.Description { return d.top.describe() }

// identity returns the identifiers of this layer.
func (l *layer) identity() vdisk.Identity {
	return vdisk.Identity{DiskID: l.p.diskID, DataWriteGUID: l.hdr.dataWrite, FileWriteGUID: l.hdr.fileWrite}
}

// describe builds the description of this layer and its parents.
func (l *layer) describe() vdisk.Description {
	d := vdisk.Description{Format: "vhdx", Path: l.path, BlockSize: l.p.blockSize, Identity: l.identity()}
	switch {
	case l.p.hasParent:
		d.Subformat = "differencing"
	case l.p.leaveAllocated:
		d.Subformat, d.BlockSize = "fixed", 0
	default:
		d.Subformat = "dynamic"
	}
	if l.parent != nil {
		pd := l.parent.describe()
		d.Parent = &pd
	}
	return d
}
