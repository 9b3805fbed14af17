package hrl

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// GUID is a UUID field exactly as stored in the file (16 raw bytes). Fields
// are compared and copied as raw bytes. For display the Windows GUID layout
// is used: the first three groups are little-endian, the last eight bytes
// are in order. The VHDX header stores GUIDs the same way, so the raw bytes
// of a VHDX DataWriteGuid are the raw bytes of Vhd2DataWriteGuid.
type GUID [16]byte

// IsZero reports whether every byte is zero.
func (g GUID) IsZero() bool { return g == GUID{} }

// windowsOrder maps text order to file order for the Windows layout.
func windowsOrder() [16]int {
	return [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}
}

// Canonical returns the 16 bytes in text order (the order of the hex digits
// of String), the representation vdisk.GUID uses.
func (g GUID) Canonical() [16]byte {
	var c [16]byte
	for i, j := range windowsOrder() {
		c[i] = g[j]
	}
	return c
}

// GUIDFromCanonical converts 16 bytes in text order to the file layout.
func GUIDFromCanonical(c [16]byte) GUID {
	var g GUID
	for i, j := range windowsOrder() {
		g[j] = c[i]
	}
	return g
}

// String renders the GUID as lowercase 8-4-4-4-12 text.
func (g GUID) String() string {
	c := g.Canonical()
	h := hex.EncodeToString(c[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseGUID parses 8-4-4-4-12 text, with or without braces, into the file
// layout.
func ParseGUID(s string) (GUID, error) {
	t := strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if len(t) != 32 {
		return GUID{}, fmt.Errorf("parse GUID %q: want 32 hex digits: %w", s, ErrOptions)
	}
	var c [16]byte
	if _, err := hex.Decode(c[:], []byte(t)); err != nil {
		return GUID{}, fmt.Errorf("parse GUID %q: %w: %w", s, err, ErrOptions)
	}
	return GUIDFromCanonical(c), nil
}

// MarshalText renders the GUID as String does.
func (g GUID) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText parses text written by MarshalText.
func (g *GUID) UnmarshalText(b []byte) error {
	v, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
