package diskcmd

import (
	"errors"
	"io"
	"iter"

	"hvmigrate/shared/vdisk"
)

// fakeImage is an in-memory image whose extent map and read failures the
// test chooses.
type fakeImage struct {
	data    []byte
	extents []vdisk.Extent
	badRead int64 // ReadAt covering this offset fails; -1 for none
	reads   map[int64]bool
}

func (f *fakeImage) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f.data)) {
		return 0, io.EOF
	}
	if f.badRead >= off && f.badRead < off+int64(len(p)) {
		return 0, errors.New("injected read error")
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *fakeImage) Close() error            { return nil }
func (f *fakeImage) Size() int64             { return int64(len(f.data)) }
func (f *fakeImage) LogicalSectorSize() int  { return 512 }
func (f *fakeImage) PhysicalSectorSize() int { return 512 }
func (f *fakeImage) Identity() vdisk.Identity {
	return vdisk.Identity{}
}
func (f *fakeImage) Describe() vdisk.Description {
	return vdisk.Description{Format: "fake", Path: "fake"}
}
func (f *fakeImage) Extents() iter.Seq2[vdisk.Extent, error] {
	return func(yield func(vdisk.Extent, error) bool) {
		for _, e := range f.extents {
			if !yield(e, nil) {
				return
			}
		}
	}
}
