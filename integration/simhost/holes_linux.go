package simhost

import (
	"errors"
	"iter"
	"os"

	"golang.org/x/sys/unix"

	"hvmigrate/shared/vdisk"
)

// fileExtents maps the first size bytes of f into data and hole extents
// with SEEK_DATA and SEEK_HOLE, without reading anything.
func fileExtents(f *os.File, size int64) iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		fd := int(f.Fd())
		for off := int64(0); off < size; {
			data, err := unix.Seek(fd, off, unix.SEEK_DATA)
			if errors.Is(err, unix.ENXIO) {
				data = size
			} else if err != nil {
				yield(vdisk.Extent{}, err)
				return
			}
			data = min(data, size)
			if data > off && !yield(vdisk.Extent{Offset: off, Length: data - off, Kind: vdisk.KindZero}, nil) {
				return
			}
			if data >= size {
				return
			}
			hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
			if err != nil {
				yield(vdisk.Extent{}, err)
				return
			}
			hole = min(hole, size)
			if !yield(vdisk.Extent{Offset: data, Length: hole - data, Kind: vdisk.KindData}, nil) {
				return
			}
			off = hole
		}
	}
}
