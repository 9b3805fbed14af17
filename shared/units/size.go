// Package units parses and prints byte sizes ("4MiB", "1.5GiB") and
// bandwidths in bits per second ("512Kbps", "10Mbps", "unlimited"), and
// holds the host throttle schedule: one limit for work hours, another for
// the rest of the week.
package units

import (
	"fmt"
	"strings"
)

// Size is a number of bytes.
type Size int64

// Binary and decimal size units.
const (
	Byte Size = 1
	KiB       = 1024 * Byte
	MiB       = 1024 * KiB
	GiB       = 1024 * MiB
	TiB       = 1024 * GiB
	PiB       = 1024 * TiB
	KB        = 1000 * Byte
	MB        = 1000 * KB
	GB        = 1000 * MB
	TB        = 1000 * GB
)

// sizeUnits are the suffixes ParseSize accepts, longest first.
var sizeUnits = []struct {
	name string
	unit Size
}{
	{"kib", KiB}, {"mib", MiB}, {"gib", GiB}, {"tib", TiB}, {"pib", PiB},
	{"kb", KB}, {"mb", MB}, {"gb", GB}, {"tb", TB}, {"b", Byte},
}

// ParseSize parses a size: a non-negative decimal number and an optional
// unit (B, KiB, MiB, GiB, TiB, PiB, or the decimal KB, MB, GB, TB; case does
// not matter). The result must be a whole number of bytes.
func ParseSize(s string) (Size, error) {
	in := strings.TrimSpace(s)
	num, unit := in, Byte
	lower := strings.ToLower(in)
	for _, u := range sizeUnits {
		if strings.HasSuffix(lower, u.name) {
			num, unit = strings.TrimSpace(in[:len(in)-len(u.name)]), u.unit
			break
		}
	}
	v, err := scale(num, int64(unit))
	if err != nil {
		return 0, fmt.Errorf("size %q: %w", s, err)
	}
	return Size(v), nil
}

// String prints the size in the largest binary unit that shows it exactly
// with at most two decimals, e.g. "4MiB", "1.5GiB", "1000B".
func (s Size) String() string {
	for _, u := range []struct {
		name string
		unit Size
	}{{"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if s >= u.unit || -s >= u.unit {
			if f := format(int64(s), int64(u.unit)); f != "" {
				return f + u.name
			}
		}
	}
	return fmt.Sprintf("%dB", int64(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
