package vhd

import (
	"fmt"
	"iter"

	"hvmigrate/shared/vdisk"
)

// Extents yields the disk's extents in order, merging neighbours of the same
// kind. Data is what some layer of the chain holds (by BAT entry and, inside
// an allocated block, by sector bitmap); zero is what no layer holds, and a
// hole in a sparse fixed VHD's file. Only metadata is read: BAT entries,
// sector bitmaps and the file system's hole map, never data.
func (d *Disk) Extents() iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		var cur vdisk.Extent
		emit := func(e vdisk.Extent) error {
			switch {
			case e.Length == 0:
			case cur.Length > 0 && cur.Kind == e.Kind && cur.End() == e.Offset:
				cur.Length += e.Length
			default:
				if cur.Length > 0 && !yield(cur, nil) {
					return errStop
				}
				cur = e
			}
			return nil
		}
		err := d.walk(0, 0, d.size, emit)
		switch {
		case err == errStop:
		case err != nil:
			yield(vdisk.Extent{}, err)
		case cur.Length > 0:
			yield(cur, nil)
		}
	}
}

// walk emits the extents of [off, end) as seen from layer i down.
func (d *Disk) walk(i int, off, end int64, emit func(vdisk.Extent) error) error {
	if i == len(d.layers) {
		return emit(vdisk.Extent{Offset: off, Length: end - off, Kind: vdisk.KindZero})
	}
	l := d.layers[i]
	if l.hdr == nil {
		// A fixed disk's data starts at file offset 0, so the file's holes
		// (a sparse fixed VHD, as qemu-img and many copy tools write them)
		// are virtual zeros that need not be read.
		for e, err := range vdisk.FileExtents(l.f, off, end) {
			if err != nil {
				return fmt.Errorf("vhd: %s: %w", l.path, err)
			}
			if err := emit(e); err != nil {
				return err
			}
		}
		return nil
	}
	bs := l.blockSize
	for off < end {
		blk, in := off/bs, off%bs
		if l.bat[blk] == unallocated {
			j := blk + 1
			for j*bs < end && l.bat[j] == unallocated {
				j++
			}
			stop := min(j*bs, end)
			if err := d.walk(i+1, off, stop, emit); err != nil {
				return err
			}
			off = stop
			continue
		}
		n := min(bs-in, end-off)
		err := l.walkBlock(blk, in, n, func(rin, rn, fileOff int64) error {
			if fileOff < 0 {
				return d.walk(i+1, blk*bs+rin, blk*bs+rin+rn, emit)
			}
			return emit(vdisk.Extent{Offset: blk*bs + rin, Length: rn, Kind: vdisk.KindData})
		})
		if err != nil {
			return err
		}
		off += n
	}
	return nil
}
