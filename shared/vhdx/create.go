package vhdx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"hvmigrate/shared/vdisk"
)

// CreateOptions describes a new VHDX file. Zero fields take the defaults
// named below.
type CreateOptions struct {
	// Size is the virtual size in bytes, a multiple of the logical sector
	// size. CreateDifferencing takes it from the parent and ignores it.
	Size int64
	// BlockSize is the payload block size, a power of two in [1 MiB,
	// 256 MiB]; default 32 MiB.
	BlockSize int64
	// LogicalSectorSize is 512 (default) or 4096; differencing disks take
	// the parent's.
	LogicalSectorSize int
	// PhysicalSectorSize is 512 or 4096 (default; differencing disks
	// default to the parent's).
	PhysicalSectorSize int
	// DiskID is the virtual disk id; zero means a random one (differencing
	// disks default to the parent's, as Hyper-V does).
	DiskID vdisk.GUID
	// Fixed creates a fixed VHDX: every block FULLY_PRESENT and preallocated
	// (as a sparse file). Not for differencing disks.
	Fixed bool
	// LogSize is the log length, a multiple of 1 MiB; default 1 MiB.
	LogSize int64
}

// DefaultBlockSize is the block size Create uses when none is given.
const DefaultBlockSize = 32 * miB

// withDefaults fills zero fields.
func (o CreateOptions) withDefaults() CreateOptions {
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.LogicalSectorSize == 0 {
		o.LogicalSectorSize = 512
	}
	if o.PhysicalSectorSize == 0 {
		o.PhysicalSectorSize = 4096
	}
	if o.LogSize == 0 {
		o.LogSize = miB
	}
	return o
}

// params converts validated options.
func (o CreateOptions) params() (params, error) {
	p := params{blockSize: o.BlockSize, leaveAllocated: o.Fixed, size: o.Size, diskID: o.DiskID,
		logical: int64(o.LogicalSectorSize), physical: int64(o.PhysicalSectorSize)}
	if err := p.check(); err != nil {
		return p, err
	}
	if o.LogSize < miB || o.LogSize%miB != 0 || o.LogSize > maxReplayLog {
		return p, errf(ErrUnsupported, "log size %d not a multiple of 1 MiB in [1 MiB, %d]", o.LogSize, maxReplayLog)
	}
	if p.diskID.IsZero() {
		var err error
		if p.diskID, err = newGUID(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Create makes a new dynamic (or, with opts.Fixed, fixed) VHDX file and
// opens it for writing. The file appears at path complete or not at all.
func Create(path string, opts CreateOptions) (*Writer, error) {
	opts = opts.withDefaults()
	p, err := opts.params()
	if err != nil {
		return nil, withPath(path, err)
	}
	if err := createFile(path, p, opts.LogSize); err != nil {
		return nil, err
	}
	return OpenWriter(path)
}

// CreateDifferencing makes a differencing VHDX whose parent is parentPath
// and opens it for writing. The locator holds parent_linkage (the parent's
// DataWriteGuid), relative_path and absolute_win32_path.
func CreateDifferencing(path, parentPath string, opts CreateOptions) (*Writer, error) {
	parent, err := Open(parentPath)
	if err != nil {
		return nil, err
	}
	defer parent.Close()
	if opts.Fixed {
		return nil, withPath(path, errf(ErrUnsupported, "a differencing disk cannot be fixed"))
	}
	opts.Size, opts.LogicalSectorSize = parent.Size(), parent.LogicalSectorSize()
	if opts.PhysicalSectorSize == 0 {
		opts.PhysicalSectorSize = parent.PhysicalSectorSize()
	}
	if opts.DiskID.IsZero() {
		opts.DiskID = parent.top.p.diskID
	}
	opts = opts.withDefaults()
	p, err := opts.params()
	if err != nil {
		return nil, withPath(path, err)
	}
	p.hasParent = true
	if p.locator, err = newLocator(path, parentPath, parent.top.hdr.dataWrite); err != nil {
		return nil, err
	}
	if err := createFile(path, p, opts.LogSize); err != nil {
		return nil, err
	}
	return OpenWriter(path)
}

// newLocator renders the parent locator of a child at path.
func newLocator(path, parentPath string, linkage vdisk.GUID) ([]byte, error) {
	absParent, err := filepath.Abs(parentPath)
	if err != nil {
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	absChild, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("vhdx: %w", err)
	}
	pairs := [][2]string{{keyLinkage, braced(linkage)}}
	if rel, err := filepath.Rel(filepath.Dir(absChild), absParent); err == nil {
		pairs = append(pairs, [2]string{keyRelative, winPath(rel)})
	}
	abs := winPath(absParent)
	if len(abs) >= 2 && abs[1] == ':' {
		abs = `\\?\` + abs
	}
	return encodeLocator(append(pairs, [2]string{keyAbsolute, abs})), nil
}

// winPath writes a local path with Windows separators.
func winPath(p string) string { return strings.ReplaceAll(filepath.ToSlash(p), "/", `\`) }

// createFile writes a complete new file beside path and renames it there.
func createFile(path string, p params, logLen int64) error {
	g := newGeometry(p)
	lo := newLayout(g, logLen)
	h, err := newHeader(lo)
	if err != nil {
		return err
	}
	bat := make([]byte, g.entries*8)
	end := lo.dataOff
	if p.leaveAllocated {
		for b := range g.blocks {
			put64(bat[g.payloadIndex(b)*8:], makeEntry(stFull, end))
			end += p.blockSize
		}
	}
	tmp := path + ".creating"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("vhdx: %w", err)
	}
	err = writePieces(f, skeleton(lo, h, p, bat), end)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("vhdx: create %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// writePieces writes the pieces, sizes the file and syncs it.
func writePieces(f *os.File, ps []piece, size int64) error {
	for _, pc := range ps {
		if _, err := f.WriteAt(pc.b, pc.off); err != nil {
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}
