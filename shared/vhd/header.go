package vhd

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"

	"hvmigrate/shared/vdisk"
)

// HeaderSize is the size of the dynamic disk header.
const HeaderSize = 1024

const (
	headerCookie  = "cxsparse"
	headerVersion = 0x00010000
	numLocators   = 8
	unallocated   = ^uint32(0)
	// maxTableEntries bounds the BAT this package loads: 4 Mi entries
	// (16 MiB) cover a 2 TiB disk with 512 KiB blocks.
	maxTableEntries = 1 << 22
)

// Platform codes of parent locator entries.
const (
	PlatformW2ru = 0x57327275 // relative Windows path, UTF-16LE
	PlatformW2ku = 0x57326B75 // absolute Windows path, UTF-16LE
)

// Locator is one parent locator entry of a differencing disk's header.
type Locator struct {
	PlatformCode       uint32
	PlatformDataSpace  uint32
	PlatformDataLength uint32
	PlatformDataOffset uint64
}

// Header is the 1024-byte dynamic disk header (big-endian on disk).
type Header struct {
	DataOffset      uint64
	TableOffset     uint64
	HeaderVersion   uint32
	MaxTableEntries uint32
	BlockSize       uint32
	Checksum        uint32
	ParentUniqueID  vdisk.GUID
	ParentTimeStamp uint32
	ParentName      string // decoded from UTF-16BE, up to the first NUL
	Locators        [numLocators]Locator
}

// decodeHeader parses a dynamic header: cookie and checksum. Field checks
// against the footer and the file are validateHeader's job.
func decodeHeader(path string, b []byte) (Header, error) {
	var h Header
	if len(b) != HeaderSize {
		return h, ferr(path, "dynamic header", ErrCorrupt, fmt.Sprintf("length %d is not %d", len(b), HeaderSize))
	}
	if string(b[0:8]) != headerCookie {
		return h, ferr(path, "dynamic header", ErrCorrupt, fmt.Sprintf("Cookie %q is not %q", b[0:8], headerCookie))
	}
	be := binary.BigEndian
	h.DataOffset = be.Uint64(b[8:])
	h.TableOffset = be.Uint64(b[16:])
	h.HeaderVersion = be.Uint32(b[24:])
	h.MaxTableEntries = be.Uint32(b[28:])
	h.BlockSize = be.Uint32(b[32:])
	h.Checksum = be.Uint32(b[36:])
	copy(h.ParentUniqueID[:], b[40:56])
	h.ParentTimeStamp = be.Uint32(b[56:])
	h.ParentName = decodeUTF16(b[64:576], binary.BigEndian)
	for i := range h.Locators {
		e := b[576+24*i:]
		h.Locators[i] = Locator{
			PlatformCode:       be.Uint32(e[0:]),
			PlatformDataSpace:  be.Uint32(e[4:]),
			PlatformDataLength: be.Uint32(e[8:]),
			PlatformDataOffset: be.Uint64(e[16:]),
		}
	}
	if want := checksum(b, 36); want != h.Checksum {
		return h, ferr(path, "dynamic header", ErrBadChecksum,
			fmt.Sprintf("Checksum 0x%08x does not match computed 0x%08x", h.Checksum, want))
	}
	return h, nil
}

// validateHeader checks the header fields that do not depend on the BAT.
func validateHeader(path string, h *Header, f *Footer) error {
	bad := func(format string, a ...any) error {
		return ferr(path, "dynamic header", ErrCorrupt, fmt.Sprintf(format, a...))
	}
	if h.HeaderVersion != headerVersion {
		return ferr(path, "dynamic header", ErrUnsupported,
			fmt.Sprintf("HeaderVersion 0x%08x is not 0x%08x", h.HeaderVersion, headerVersion))
	}
	if h.BlockSize < 512 || bits.OnesCount32(h.BlockSize) != 1 {
		return bad("BlockSize %d is not a power of two of at least 512", h.BlockSize)
	}
	need := (f.CurrentSize + uint64(h.BlockSize) - 1) / uint64(h.BlockSize)
	if uint64(h.MaxTableEntries) < need {
		return bad("MaxTableEntries %d is less than the %d blocks of CurrentSize %d", h.MaxTableEntries, need, f.CurrentSize)
	}
	if need > maxTableEntries {
		return ferr(path, "dynamic header", ErrUnsupported,
			fmt.Sprintf("%d blocks of %d bytes exceed the supported %d BAT entries", need, h.BlockSize, maxTableEntries))
	}
	if f.DiskType == TypeDifferencing && h.ParentUniqueID.IsZero() {
		return bad("ParentUniqueId is zero in a differencing disk")
	}
	return nil
}

// bitmapLen is the size of a block's sector bitmap: one bit per sector,
// padded to a whole sector.
func bitmapLen(blockSize int64) int64 {
	bytes := (blockSize/512 + 7) / 8
	return (bytes + 511) / 512 * 512
}

// decodeUTF16 decodes UTF-16 text up to the first NUL code unit.
func decodeUTF16(b []byte, order binary.ByteOrder) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := order.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}
