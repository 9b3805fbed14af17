package vhd

import (
	"errors"
	"fmt"
	"path/filepath"

	"hvmigrate/shared/vdisk"
)

// MaxChainDepth is the most files a chain may have, the disk itself included.
const MaxChainDepth = 32

// Disk is an opened VHD with its parent chain. It is safe for concurrent use.
type Disk struct {
	layers []*layer // layers[0] is the file opened, the last is the base
	size   int64
}

var _ vdisk.Image = (*Disk)(nil)

// Open opens a fixed, dynamic or differencing VHD read-only, follows and
// checks its parent chain, and validates every structure it will use.
func Open(path string) (*Disk, error) {
	d := &Disk{}
	seen := chainSeen{paths: map[string]bool{}, ids: map[[16]byte]bool{}}
	l, err := openLayer(path)
	for err == nil {
		d.layers = append(d.layers, l)
		seen.paths[canonical(l.path)] = true
		seen.ids[l.footer.UniqueID] = true
		if l.footer.DiskType != TypeDifferencing {
			break
		}
		if len(d.layers) == MaxChainDepth {
			err = fmt.Errorf("vhd: %s: chain is deeper than %d files: %w", path, MaxChainDepth, ErrChain)
			break
		}
		l, err = l.openParent(seen)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	d.size = int64(d.layers[0].footer.CurrentSize)
	return d, nil
}

// Close closes every file of the chain.
func (d *Disk) Close() error {
	var errs []error
	for _, l := range d.layers {
		errs = append(errs, l.close())
	}
	return errors.Join(errs...)
}

// Size is the virtual size: the footer's CurrentSize.
func (d *Disk) Size() int64 { return d.size }

// LogicalSectorSize is always 512 for VHD.
func (d *Disk) LogicalSectorSize() int { return 512 }

// PhysicalSectorSize is always 512 for VHD.
func (d *Disk) PhysicalSectorSize() int { return 512 }

// Footer returns the footer of the file opened (not of its parents).
func (d *Disk) Footer() Footer { return d.layers[0].footer }

// Identity returns the footer's UniqueId as DiskID.
func (d *Disk) Identity() vdisk.Identity {
	return vdisk.Identity{DiskID: d.layers[0].footer.UniqueID}
}

// Describe tells the format, subformat, block size and parent chain.
func (d *Disk) Describe() vdisk.Description {
	var parent *vdisk.Description
	for i := len(d.layers) - 1; i >= 0; i-- {
		l := d.layers[i]
		desc := vdisk.Description{
			Format:    "vhd",
			Subformat: l.footer.DiskType.String(),
			Path:      l.path,
			BlockSize: l.blockSize,
			Identity:  vdisk.Identity{DiskID: l.footer.UniqueID},
			Parent:    parent,
		}
		parent = &desc
	}
	return *parent
}

// Paths lists the files of the chain, the disk first and its base last.
func (d *Disk) Paths() []string {
	out := make([]string, len(d.layers))
	for i, l := range d.layers {
		out[i], _ = filepath.Abs(l.path)
	}
	return out
}

// Warnings lists what was accepted but looked wrong, or worth knowing (a
// saved-state flag, a damaged tail footer, a geometry larger than the size).
func (d *Disk) Warnings() []string {
	var out []string
	for _, l := range d.layers {
		out = append(out, l.warnings...)
	}
	return out
}
