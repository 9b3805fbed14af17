package vdisk

import (
	"fmt"
	"io"
	"iter"
	"os"
)

// Raw is a plain image file or a block device: the virtual disk is the file
// itself, with 512-byte sectors. It is safe for concurrent use.
type Raw struct {
	f    *os.File
	path string
	size int64
}

var _ Image = (*Raw)(nil)

// OpenRaw opens a raw image read-only. The size is the file's (or device's)
// size when opened.
func OpenRaw(path string) (*Raw, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("raw: %w", err)
	}
	size, err := f.Seek(0, io.SeekEnd) // also sizes block devices
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("raw: %s: size: %w", path, err)
	}
	return &Raw{f: f, path: path, size: size}, nil
}

// Close closes the file.
func (r *Raw) Close() error { return r.f.Close() }

// Size is the file size.
func (r *Raw) Size() int64 { return r.size }

// LogicalSectorSize is 512.
func (r *Raw) LogicalSectorSize() int { return 512 }

// PhysicalSectorSize is 512.
func (r *Raw) PhysicalSectorSize() int { return 512 }

// Identity is empty: a raw image carries no identifiers.
func (r *Raw) Identity() Identity { return Identity{} }

// Describe reports format "raw" and no subformat.
func (r *Raw) Describe() Description { return Description{Format: "raw", Path: r.path} }

// ReadAt reads the image at off, stopping at Size with io.EOF.
func (r *Raw) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("raw: %s: read at negative offset %d", r.path, off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > r.size-off {
		p, eof = p[:r.size-off], io.EOF
	}
	n, err := r.f.ReadAt(p, off)
	if err == nil {
		err = eof
	}
	return n, err
}

// Extents reports holes as KindZero and the rest as KindData where the file
// system can tell them apart (SEEK_DATA and SEEK_HOLE); elsewhere the whole
// image is one data extent.
func (r *Raw) Extents() iter.Seq2[Extent, error] {
	return func(yield func(Extent, error) bool) {
		for e, err := range FileExtents(r.f, 0, r.size) {
			if err != nil {
				yield(Extent{}, fmt.Errorf("raw: %s: %w", r.path, err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// FileExtents yields the range [off, end) of f in order as extents at the
// file's own offsets: holes, which read as zeros without storage behind
// them, as KindZero, the rest as KindData. Where the file system cannot
// tell holes apart (or the system has no SEEK_DATA), the range is one data
// extent. Formats whose data area maps onto the file one to one (raw, fixed
// VHD) use it to skip a sparse file's holes without reading them.
func FileExtents(f *os.File, off, end int64) iter.Seq2[Extent, error] {
	return func(yield func(Extent, error) bool) {
		for off < end {
			start, stop, err := nextData(f, off, end)
			if err != nil {
				yield(Extent{}, fmt.Errorf("extents at %d: %w", off, err))
				return
			}
			start, stop = clampRange(off, start, stop, end)
			if start > off && !yield(Extent{Offset: off, Length: start - off, Kind: KindZero}, nil) {
				return
			}
			if stop > start && !yield(Extent{Offset: start, Length: stop - start, Kind: KindData}, nil) {
				return
			}
			off = stop
		}
	}
}

// clampRange keeps a data range inside [off, size] and guarantees progress:
// a range that would end at or before off becomes data up to size.
func clampRange(off, start, end, size int64) (int64, int64) {
	start = min(max(start, off), size)
	end = min(end, size)
	if end <= start && start < size {
		end = size
	}
	return start, max(end, start)
}
