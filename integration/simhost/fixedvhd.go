package simhost

import (
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sync"
	"time"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
)

// fixedVHD writes a fixed VHD: the virtual disk as plain bytes followed by
// a 512-byte footer. The file is sparse; holes read as zeros.
type fixedVHD struct {
	mu   sync.RWMutex
	f    *os.File
	path string
	size int64
	id   vdisk.GUID
}

// createFixedVHD writes a complete sparse fixed VHD beside path and renames
// it into place.
func createFixedVHD(path string, size int64, id vdisk.GUID) error {
	footer, err := vhd.AzureFixedFooter(size, id, time.Now())
	if err != nil {
		return fmt.Errorf("fixed vhd %s: %w", path, err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	defer os.Remove(tmp)
	if _, err := f.WriteAt(footer, size); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// openFixedVHD opens a fixed VHD for writing after checking it.
func openFixedVHD(path string) (*fixedVHD, error) {
	d, err := vhd.Open(path)
	if err != nil {
		return nil, err
	}
	size, id, typ := d.Size(), d.Identity().DiskID, d.Footer().DiskType
	d.Close()
	if typ != vhd.TypeFixed {
		return nil, fmt.Errorf("%s: a %s VHD: %w", path, typ, ErrUnsupported)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &fixedVHD{f: f, path: path, size: size, id: id}, nil
}

func (v *fixedVHD) WriteAt(p []byte, off int64) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if off < 0 || off%512 != 0 || len(p)%512 != 0 || off > v.size-int64(len(p)) {
		return 0, fmt.Errorf("%s: write [%d, +%d): %w", v.path, off, len(p), ErrInvalid)
	}
	return v.f.WriteAt(p, off)
}

func (v *fixedVHD) ReadAt(p []byte, off int64) (int, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return readClipped(v.f, v.size, p, off)
}

func (v *fixedVHD) Flush() error { return v.f.Sync() }

func (v *fixedVHD) Close() error {
	err := v.f.Sync()
	if cerr := v.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (v *fixedVHD) Size() int64              { return v.size }
func (v *fixedVHD) LogicalSectorSize() int   { return 512 }
func (v *fixedVHD) PhysicalSectorSize() int  { return 512 }
func (v *fixedVHD) Identity() vdisk.Identity { return vdisk.Identity{DiskID: v.id} }
func (v *fixedVHD) Describe() vdisk.Description {
	return vdisk.Description{Format: "vhd", Subformat: "fixed", Path: v.path}
}

// Extents reports the file's holes as zero extents where the platform
// can find them (see holes_*.go), and everything else as data.
func (v *fixedVHD) Extents() iter.Seq2[vdisk.Extent, error] {
	return fileExtents(v.f, v.size)
}

var _ diskImage = (*fixedVHD)(nil)
