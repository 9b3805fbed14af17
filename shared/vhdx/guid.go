package vhdx

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"hvmigrate/shared/vdisk"
)

// Known GUIDs in canonical text form.
const (
	guidBATRegion      = "2dc27766-f623-4200-9d64-115e9bfd4a08"
	guidMetadataRegion = "8b7ca206-4790-4b9a-b8fe-575f050f886e"
	guidFileParams     = "caa16737-fa36-4d43-b3b6-33f0aa44e76b"
	guidVirtualSize    = "2fa54224-cd1b-4876-b211-5dbed83bf4b8"
	guidDiskID         = "beca12ab-b2e6-4523-93ef-c309e000c746"
	guidLogicalSector  = "8141bf1d-a96f-4709-ba47-f233a8faab5f"
	guidPhysicalSector = "cda348c7-445d-4471-9cc9-e9885251c556"
	guidParentLocator  = "a8d35f2d-b30b-454d-abf7-d3d84834ab0c"
	guidVHDXLocator    = "b04aefb7-d19e-4a81-b789-25b8e9445913"
)

// getGUID converts a 16-byte mixed-endian on-disk GUID to canonical order.
func getGUID(b []byte) vdisk.GUID {
	var g vdisk.GUID
	copy(g[:], b[:16])
	swapGUID(&g)
	return g
}

// putGUID stores a canonical GUID in the on-disk mixed-endian order.
func putGUID(b []byte, g vdisk.GUID) {
	swapGUID(&g)
	copy(b[:16], g[:])
}

// swapGUID byte-swaps the first three fields (u32, u16, u16); it is its own
// inverse.
func swapGUID(g *vdisk.GUID) {
	g[0], g[1], g[2], g[3] = g[3], g[2], g[1], g[0]
	g[4], g[5] = g[5], g[4]
	g[6], g[7] = g[7], g[6]
}

// parseGUIDText parses "01234567-89ab-cdef-0123-456789abcdef", optionally in
// braces, case-insensitively.
func parseGUIDText(s string) (vdisk.GUID, error) {
	var g vdisk.GUID
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("GUID %q malformed", s)
	}
	h := t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return g, fmt.Errorf("GUID %q malformed", s)
	}
	return g, nil
}

// mustGUID parses a GUID constant of this package.
func mustGUID(s string) vdisk.GUID {
	g, err := parseGUIDText(s)
	if err != nil {
		panic("vhdx: bad GUID constant " + s)
	}
	return g
}

// newGUID returns a random (version 4) GUID.
func newGUID() (vdisk.GUID, error) {
	var g vdisk.GUID
	if _, err := rand.Read(g[:]); err != nil {
		return g, fmt.Errorf("vhdx: random GUID: %w", err)
	}
	g[6] = g[6]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g, nil
}

// braced renders a GUID as Hyper-V writes it in parent locators.
func braced(g vdisk.GUID) string { return "{" + g.String() + "}" }
