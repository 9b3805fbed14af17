package delta

import (
	"fmt"
)

// Layout constants of format version 1. See the package documentation.
const (
	// Version is the format version this package writes and reads.
	Version = 1
	// HeaderSize is the size of the header at object offset 0.
	HeaderSize = 512
	// EntrySize is the size of one extent table entry.
	EntrySize = 40
	// FooterSize is the size of the footer at the end of the object.
	FooterSize = 64
	// SectorSize is the unit every extent offset and length is a multiple of.
	SectorSize = 512
	// MaxChunk is the largest length of one data extent: 4 MiB, the most a
	// single Put Page call writes.
	MaxChunk = 4 << 20
	// MaxLogIDs is the most change-tracking log ids one header can name.
	MaxLogIDs = 16
	// MaxExtents is the most extent table entries one object can hold.
	MaxExtents = 1 << 22
	// MaxVirtualSize is the largest virtual disk size: 64 TiB.
	MaxVirtualSize = 64 << 40
	// minObjectSize is the size of an object with no extents.
	minObjectSize = HeaderSize + FooterSize
)

// headerMagic and footerMagic open the header and the footer.
const (
	headerMagic = "HVMDELTA"
	footerMagic = "HVMDTAIL"
)

// ID is a 16-byte identifier (a VM, a disk or a change-tracking log).
type ID [16]byte

// ObjectKind tells what produced an object.
type ObjectKind uint8

// Object kinds.
const (
	KindCycle  ObjectKind = 1 // changes of one delta cycle
	KindResync ObjectKind = 2 // blocks found different by a resync
)

// ExtentKind tells how an extent's bytes are given.
type ExtentKind uint8

// Extent kinds.
const (
	Data ExtentKind = 1 // bytes stored in the payload
	Zero ExtentKind = 2 // all zero, nothing stored
)

// Encoding tells how a data extent's bytes are stored.
type Encoding uint8

// Encodings.
const (
	Raw  Encoding = 0 // stored as is
	Zstd Encoding = 1 // one zstd frame
)

// Compression is the set of compression algorithms an object may use.
type Compression uint8

// CompressionZstd is set when extents may be zstd encoded.
const CompressionZstd Compression = 1 << 0

// Header identifies an object: which disk, which cycle, built from which logs.
type Header struct {
	Kind        ObjectKind
	VMID        ID
	DiskID      ID
	Cycle       uint64
	PrevCycle   uint64
	VirtualSize int64
	LogIDs      []ID
	// Compression is the set of algorithms the writer may use; the zero
	// value stores every extent raw, spending no CPU on compression.
	Compression Compression
}

// Extent is a range of the virtual disk and how its new contents are given.
type Extent struct {
	Offset int64
	Length int64
	Kind   ExtentKind
}

// End returns the offset just past the extent.
func (e Extent) End() int64 { return e.Offset + e.Length }

// validate checks the header's fields. A reader passes nil and gets the
// format's sentinels; a writer passes ErrInvalid, which replaces them all.
func (h *Header) validate(invalid error) error {
	class := func(sentinel error) error {
		if invalid != nil {
			return invalid
		}
		return sentinel
	}
	switch {
	case h.Kind != KindCycle && h.Kind != KindResync:
		return fmt.Errorf("delta: header kind %d: %w", h.Kind, class(ErrUnsupported))
	case h.PrevCycle >= h.Cycle:
		return fmt.Errorf("delta: header previous cycle %d not below cycle %d: %w", h.PrevCycle, h.Cycle, class(ErrCorrupt))
	case h.VirtualSize <= 0 || h.VirtualSize%SectorSize != 0:
		return fmt.Errorf("delta: header virtual size %d not a positive multiple of %d: %w", h.VirtualSize, SectorSize, class(ErrCorrupt))
	case h.VirtualSize > MaxVirtualSize:
		return fmt.Errorf("delta: header virtual size %d above %d: %w", h.VirtualSize, int64(MaxVirtualSize), class(ErrTooLarge))
	case h.Compression&^CompressionZstd != 0:
		return fmt.Errorf("delta: header compression set %#x: %w", h.Compression, class(ErrUnsupported))
	case len(h.LogIDs) > MaxLogIDs:
		return fmt.Errorf("delta: header log id count %d above %d: %w", len(h.LogIDs), MaxLogIDs, class(ErrTooLarge))
	}
	return nil
}
