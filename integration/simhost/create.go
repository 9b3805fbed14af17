package simhost

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhdx"
)

// Size limits of the disk formats, as Hyper-V sets them.
const (
	mib         = 1 << 20
	maxVHDXSize = 64 << 40
	maxVHDSize  = 2040 << 30
)

// CreateVM validates spec, creates the VM's directory and disks, and
// returns the new VM (powered off).
func (d *Daemon) CreateVM(spec VMSpec) (VM, error) {
	spec, err := normalizeSpec(spec)
	if err != nil {
		return VM{}, err
	}
	id := uuid.NewString()
	dir := filepath.Join(d.cfg.Dir, id)
	v := &vm{dir: dir, cfg: &d.cfg, log: d.log.With("vm_id", id)}
	v.rec = &vmRecord{
		Version: recordVersion, ID: id, Name: spec.Name, Generation: spec.Generation, CPUs: spec.CPUs,
		MemoryBytes: spec.MemoryBytes, NICs: spec.NICs, Power: PowerOff, CreatedAt: time.Now().UTC(),
	}
	if err := v.createFiles(spec.Disks, d.cfg.BlockSize); err != nil {
		os.RemoveAll(dir)
		return VM{}, err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		os.RemoveAll(dir)
		return VM{}, ErrClosed
	}
	d.vms[id] = v
	d.mu.Unlock()
	v.log.Info("vm created", "name", spec.Name, "disks", len(spec.Disks))
	return v.view(), nil
}

// createFiles makes the VM directory, every disk and the record.
func (v *vm) createFiles(specs []DiskSpec, blockSize int64) error {
	if err := os.Mkdir(v.dir, 0o755); err != nil {
		return fmt.Errorf("create vm directory: %w", err)
	}
	for i, s := range specs {
		r, err := createDisk(v.dir, s, blockSize)
		if err != nil {
			return fmt.Errorf("disk %d: %w", i, err)
		}
		v.rec.Disks = append(v.rec.Disks, r)
		v.disks = append(v.disks, &disk{index: i, rec: r})
	}
	return v.persist()
}

// createDisk makes one disk's folder and base file.
func createDisk(vmDir string, s DiskSpec, blockSize int64) (*diskRecord, error) {
	u := uuid.New()
	r := &diskRecord{ID: u.String(), Format: s.Format, Size: s.Size, LogicalSectorSize: s.LogicalSectorSize}
	if err := os.Mkdir(filepath.Join(vmDir, r.ID), 0o755); err != nil {
		return nil, fmt.Errorf("create disk directory: %w", err)
	}
	if s.Format == FormatVHDFixed {
		r.Base = filepath.Join(r.ID, "disk.vhd")
		r.Top = r.Base
		return r, createFixedVHD(filepath.Join(vmDir, r.Base), s.Size, vdisk.GUID(u))
	}
	r.Base = filepath.Join(r.ID, "disk.vhdx")
	r.Top = r.Base
	opts := vhdx.CreateOptions{
		Size: s.Size, LogicalSectorSize: s.LogicalSectorSize, DiskID: vdisk.GUID(u),
		Fixed: s.Format == FormatVHDXFixed, BlockSize: blockSize,
	}
	w, err := vhdx.Create(filepath.Join(vmDir, r.Base), opts)
	if err != nil {
		return nil, err
	}
	return r, w.Close()
}

// normalizeSpec fills defaults and refuses what Hyper-V would refuse.
func normalizeSpec(s VMSpec) (VMSpec, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.Name == "" || len(s.Name) > 100 {
		bad("name: must be 1 to 100 characters")
	}
	s.Generation = orDefault(s.Generation, 2)
	if s.Generation != 1 && s.Generation != 2 {
		bad("generation %d: must be 1 or 2", s.Generation)
	}
	s.CPUs = orDefault(s.CPUs, 2)
	if s.CPUs < 1 || s.CPUs > 240 {
		bad("cpus %d: must be 1 to 240", s.CPUs)
	}
	s.MemoryBytes = orDefault(s.MemoryBytes, 2<<30)
	if s.MemoryBytes < 32*mib || s.MemoryBytes%(2*mib) != 0 {
		bad("memory %d bytes: must be at least 32 MiB and a multiple of 2 MiB", s.MemoryBytes)
	}
	if len(s.Disks) == 0 || len(s.Disks) > MaxDisks {
		bad("disks: %d given, a VM has 1 to %d", len(s.Disks), MaxDisks)
	}
	for i := range s.Disks {
		if err := normalizeDisk(&s.Disks[i]); err != nil {
			bad("disk %d: %v", i, err)
		}
	}
	for i := range s.NICs {
		if err := normalizeNIC(&s.NICs[i], i); err != nil {
			bad("nic %d: %v", i, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return s, nil
}

// normalizeDisk checks one disk spec.
func normalizeDisk(s *DiskSpec) error {
	if s.Format == "" {
		s.Format = FormatVHDXDynamic
	}
	s.LogicalSectorSize = orDefault(s.LogicalSectorSize, 512)
	limit := int64(maxVHDXSize)
	switch s.Format {
	case FormatVHDXDynamic, FormatVHDXFixed:
		if s.LogicalSectorSize != 512 && s.LogicalSectorSize != 4096 {
			return fmt.Errorf("logical sector size %d: must be 512 or 4096", s.LogicalSectorSize)
		}
	case FormatVHDFixed:
		if s.LogicalSectorSize != 512 {
			return fmt.Errorf("logical sector size %d: a VHD has 512-byte sectors", s.LogicalSectorSize)
		}
		limit = maxVHDSize
	default:
		return fmt.Errorf("format %q: must be %s, %s or %s", s.Format, FormatVHDXDynamic, FormatVHDXFixed, FormatVHDFixed)
	}
	if s.Size <= 0 || s.Size%mib != 0 || s.Size > limit {
		return fmt.Errorf("size %d bytes: must be a positive multiple of 1 MiB up to %d GiB for %s", s.Size, limit>>30, s.Format)
	}
	return nil
}

// normalizeNIC names the adapter and gives it a MAC address if missing.
func normalizeNIC(n *NIC, i int) error {
	if n.Name == "" {
		n.Name = fmt.Sprintf("Network Adapter %d", i+1)
	}
	if n.MACAddress == "" {
		var b [3]byte
		rand.Read(b[:])
		n.MACAddress = fmt.Sprintf("00:15:5D:%02X:%02X:%02X", b[0], b[1], b[2])
	}
	if len(n.MACAddress) != 17 {
		return fmt.Errorf("mac address %q: want six colon-separated hex bytes", n.MACAddress)
	}
	return nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
