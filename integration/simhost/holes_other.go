//go:build !linux

package simhost

import (
	"iter"
	"os"

	"hvmigrate/shared/vdisk"
)

// fileExtents reports the whole range as data: this platform offers no
// portable way to find holes.
func fileExtents(_ *os.File, size int64) iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		if size > 0 {
			yield(vdisk.Extent{Offset: 0, Length: size, Kind: vdisk.KindData}, nil)
		}
	}
}
