package vhd

import (
	"encoding/binary"
	"fmt"

	"hvmigrate/shared/vdisk"
)

// FooterSize is the size of the hard disk footer.
const FooterSize = 512

const (
	footerCookie    = "conectix"
	footerVersion   = 0x00010000
	featureReserved = 0x2 // must be set
	fixedDataOffset = ^uint64(0)
	vhdEpochUnix    = 946684800 // 2000-01-01T00:00:00Z
)

// DiskType is the footer's DiskType field.
type DiskType uint32

// Disk types this package reads.
const (
	TypeFixed        DiskType = 2
	TypeDynamic      DiskType = 3
	TypeDifferencing DiskType = 4
)

// String names the disk type as Description.Subformat does.
func (t DiskType) String() string {
	switch t {
	case TypeFixed:
		return "fixed"
	case TypeDynamic:
		return "dynamic"
	case TypeDifferencing:
		return "differencing"
	default:
		return fmt.Sprintf("type %d", uint32(t))
	}
}

// Geometry is the CHS geometry stored in the footer.
type Geometry struct {
	Cylinders       uint16
	Heads           uint8
	SectorsPerTrack uint8
}

// Bytes is C*H*S*512.
func (g Geometry) Bytes() int64 {
	return int64(g.Cylinders) * int64(g.Heads) * int64(g.SectorsPerTrack) * 512
}

// Footer is the 512-byte hard disk footer (big-endian on disk). The cookie is
// implied; the checksum is computed by MarshalBinary and checked on decode.
type Footer struct {
	Features       uint32
	Version        uint32
	DataOffset     uint64
	TimeStamp      uint32 // seconds since 2000-01-01T00:00:00Z
	CreatorApp     [4]byte
	CreatorVersion uint32
	CreatorHostOS  uint32
	OriginalSize   uint64
	CurrentSize    uint64
	Geometry       Geometry
	DiskType       DiskType
	Checksum       uint32 // as stored; set by MarshalBinary
	UniqueID       vdisk.GUID
	SavedState     uint8
}

// MarshalBinary encodes the footer and fills in its checksum.
func (f *Footer) MarshalBinary() ([]byte, error) {
	b := make([]byte, FooterSize)
	be := binary.BigEndian
	copy(b[0:8], footerCookie)
	be.PutUint32(b[8:], f.Features)
	be.PutUint32(b[12:], f.Version)
	be.PutUint64(b[16:], f.DataOffset)
	be.PutUint32(b[24:], f.TimeStamp)
	copy(b[28:32], f.CreatorApp[:])
	be.PutUint32(b[32:], f.CreatorVersion)
	be.PutUint32(b[36:], f.CreatorHostOS)
	be.PutUint64(b[40:], f.OriginalSize)
	be.PutUint64(b[48:], f.CurrentSize)
	be.PutUint16(b[56:], f.Geometry.Cylinders)
	b[58] = f.Geometry.Heads
	b[59] = f.Geometry.SectorsPerTrack
	be.PutUint32(b[60:], uint32(f.DiskType))
	copy(b[68:84], f.UniqueID[:])
	b[84] = f.SavedState
	f.Checksum = checksum(b, 64)
	be.PutUint32(b[64:], f.Checksum)
	return b, nil
}

// checksum is the ones' complement of the byte sum of b, with the 4-byte
// checksum field at csOff counted as zero.
func checksum(b []byte, csOff int) uint32 {
	var sum uint32
	for i, c := range b {
		if i < csOff || i >= csOff+4 {
			sum += uint32(c)
		}
	}
	return ^sum
}

// decodeFooter parses a footer. b is 512 bytes, or 511 for footers written
// before the SavedState byte existed. It checks the cookie and checksum only;
// field validation is validateFooter's job.
func decodeFooter(path string, b []byte) (Footer, error) {
	var f Footer
	if len(b) != FooterSize && len(b) != FooterSize-1 {
		return f, ferr(path, "footer", ErrCorrupt, fmt.Sprintf("length %d is not 512", len(b)))
	}
	if string(b[0:8]) != footerCookie {
		return f, ferr(path, "footer", ErrNotVHD, fmt.Sprintf("Cookie %q is not %q", b[0:8], footerCookie))
	}
	be := binary.BigEndian
	f.Features = be.Uint32(b[8:])
	f.Version = be.Uint32(b[12:])
	f.DataOffset = be.Uint64(b[16:])
	f.TimeStamp = be.Uint32(b[24:])
	copy(f.CreatorApp[:], b[28:32])
	f.CreatorVersion = be.Uint32(b[32:])
	f.CreatorHostOS = be.Uint32(b[36:])
	f.OriginalSize = be.Uint64(b[40:])
	f.CurrentSize = be.Uint64(b[48:])
	f.Geometry = Geometry{Cylinders: be.Uint16(b[56:]), Heads: b[58], SectorsPerTrack: b[59]}
	f.DiskType = DiskType(be.Uint32(b[60:]))
	f.Checksum = be.Uint32(b[64:])
	copy(f.UniqueID[:], b[68:84])
	if len(b) == FooterSize {
		f.SavedState = b[84]
	}
	if want := checksum(b, 64); want != f.Checksum {
		return f, ferr(path, "footer", ErrBadChecksum,
			fmt.Sprintf("Checksum 0x%08x does not match computed 0x%08x", f.Checksum, want))
	}
	return f, nil
}
