// Package vdisk defines what every virtual disk reader in hvmigrate offers:
// a virtual size, sector sizes, random reads, an extent map that tells
// allocated data from ranges known to read as zero, and the disk's identity.
//
// The VHD and VHDX packages satisfy Image; the raw implementation in this
// package serves plain image files and block devices.
package vdisk

import (
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"strings"
)

// Image is a virtual disk opened read-only. ReadAt reads the virtual disk
// (never the container file); reads past Size return io.EOF as os.File does.
// Implementations are safe for concurrent ReadAt calls.
type Image interface {
	io.ReaderAt
	io.Closer
	// Size is the virtual size in bytes.
	Size() int64
	// LogicalSectorSize is 512 or 4096.
	LogicalSectorSize() int
	// PhysicalSectorSize is 512 or 4096.
	PhysicalSectorSize() int
	// Extents yields, in increasing offset order, extents that together cover
	// [0, Size()) exactly once. Adjacent extents of the same kind may or may
	// not be merged. The iteration stops at the first error, which it yields.
	Extents() iter.Seq2[Extent, error]
	// Identity returns the identifiers stored in the disk file.
	Identity() Identity
	// Describe tells what the file is, for `hvm-agent disk info` and logs.
	Describe() Description
}

// Description is what a disk file is: its format, layout and parent chain.
type Description struct {
	Format    string `json:"format"`    // "vhd", "vhdx" or "raw"
	Subformat string `json:"subformat"` // "fixed", "dynamic" or "differencing"
	Path      string `json:"path"`
	// BlockSize is the allocation unit of dynamic and differencing disks, 0
	// for fixed and raw ones.
	BlockSize int64    `json:"block_size,omitempty"`
	Identity  Identity `json:"identity"`
	// Parent describes the parent of a differencing disk, nil otherwise.
	Parent *Description `json:"parent,omitempty"`
}

// Kind tells what an extent holds.
type Kind uint8

const (
	// KindData is allocated: it must be read, and may still contain zeros.
	KindData Kind = iota + 1
	// KindZero is known to read as zeros (unallocated, unmapped or a zero
	// state) without reading anything.
	KindZero
)

// String names the kind for logs and JSON output.
func (k Kind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindZero:
		return "zero"
	default:
		return "unknown"
	}
}

// Extent is a byte range of the virtual disk.
type Extent struct {
	Offset int64
	Length int64
	Kind   Kind
}

// End is the first byte after the extent.
func (e Extent) End() int64 { return e.Offset + e.Length }

// GUID is 16 bytes in canonical text order (the order of the hex digits in
// "01234567-89ab-cdef-0123-456789abcdef"). Format packages convert on-disk
// encodings: VHDX stores GUIDs mixed-endian, so its first three fields are
// byte-swapped on the way in; VHD identifiers are taken in file order.
type GUID [16]byte

// IsZero reports whether no identifier is set.
func (g GUID) IsZero() bool { return g == GUID{} }

// Identity holds the identifiers a disk file carries. Fields a format does
// not have are zero.
type Identity struct {
	// DiskID is the VHD footer UniqueId or the VHDX VirtualDiskId (Page 83).
	DiskID GUID
	// DataWriteGUID is the VHDX header DataWriteGuid: it changes whenever
	// the virtual disk's content may have changed.
	DataWriteGUID GUID
	// FileWriteGUID is the VHDX header FileWriteGuid.
	FileWriteGUID GUID
}

// String renders the GUID in canonical lowercase 8-4-4-4-12 form.
func (g GUID) String() string {
	h := hex.EncodeToString(g[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// MarshalText renders the GUID as String does.
func (g GUID) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText parses the canonical 8-4-4-4-12 form (or 32 hex digits).
func (g *GUID) UnmarshalText(b []byte) error {
	s := strings.ReplaceAll(string(b), "-", "")
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != len(g) {
		return fmt.Errorf("GUID %q: want 32 hex digits in 8-4-4-4-12 form", b)
	}
	copy(g[:], raw)
	return nil
}
