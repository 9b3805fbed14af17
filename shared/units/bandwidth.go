package units

import (
	"errors"
	"fmt"
	"strings"
)

// Bandwidth is a rate in bits per second. Zero means unlimited.
type Bandwidth int64

// Bandwidth units (decimal, as network rates are).
const (
	Unlimited Bandwidth = 0
	Bps       Bandwidth = 1
	Kbps                = 1000 * Bps
	Mbps                = 1000 * Kbps
	Gbps                = 1000 * Mbps
)

// The range a host throttle accepts, besides Unlimited.
const (
	MinBandwidth = 512 * Kbps
	MaxBandwidth = 1023 * Mbps
)

// ErrOutOfRange reports a bandwidth outside MinBandwidth..MaxBandwidth.
var ErrOutOfRange = errors.New("bandwidth must be between 512Kbps and 1023Mbps, or unlimited")

// ParseBandwidth parses "unlimited" or a number with bps, Kbps, Mbps or
// Gbps (bits per second; the letter case of the prefix does not matter, but
// a capital B, bytes, is refused). The value must lie in the throttle range.
func ParseBandwidth(s string) (Bandwidth, error) {
	in := strings.TrimSpace(s)
	if strings.EqualFold(in, "unlimited") {
		return Unlimited, nil
	}
	if strings.HasSuffix(in, "Bps") || strings.HasSuffix(in, "BPS") {
		return 0, fmt.Errorf("bandwidth %q: use bits per second (Kbps, Mbps), not bytes", s)
	}
	lower := strings.ToLower(in)
	unit, num := Bandwidth(0), ""
	for _, u := range []struct {
		name string
		unit Bandwidth
	}{{"kbps", Kbps}, {"mbps", Mbps}, {"gbps", Gbps}, {"bps", Bps}} {
		if strings.HasSuffix(lower, u.name) {
			unit, num = u.unit, strings.TrimSpace(in[:len(in)-len(u.name)])
			break
		}
	}
	if unit == 0 {
		return 0, fmt.Errorf("bandwidth %q: missing unit (Kbps, Mbps, Gbps) or \"unlimited\"", s)
	}
	v, err := scale(num, int64(unit))
	if err != nil {
		return 0, fmt.Errorf("bandwidth %q: %w", s, err)
	}
	b := Bandwidth(v)
	if b == 0 {
		return 0, fmt.Errorf("bandwidth %q: %w", s, ErrOutOfRange)
	}
	if err := b.Validate(); err != nil {
		return 0, fmt.Errorf("bandwidth %q: %w", s, err)
	}
	return b, nil
}

// Validate checks the throttle range.
func (b Bandwidth) Validate() error {
	if b == Unlimited || (b >= MinBandwidth && b <= MaxBandwidth) {
		return nil
	}
	return fmt.Errorf("%d bit/s: %w", int64(b), ErrOutOfRange)
}

// IsUnlimited reports whether b sets no limit.
func (b Bandwidth) IsUnlimited() bool {
	return b <= 0
}

// BytesPerSecond returns the rate in bytes per second.
func (b Bandwidth) BytesPerSecond() float64 {
	return float64(b) / 8
}

// String prints "unlimited" or the rate in the largest exact unit.
func (b Bandwidth) String() string {
	if b == Unlimited {
		return "unlimited"
	}
	for _, u := range []struct {
		name string
		unit Bandwidth
	}{{"Gbps", Gbps}, {"Mbps", Mbps}, {"Kbps", Kbps}} {
		if b >= u.unit {
			if f := format(int64(b), int64(u.unit)); f != "" {
				return f + u.name
			}
		}
	}
	return fmt.Sprintf("%dbps", int64(b))
}

// MarshalText implements encoding.TextMarshaler.
func (b Bandwidth) MarshalText() ([]byte, error) {
	return []byte(b.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *Bandwidth) UnmarshalText(t []byte) error {
	v, err := ParseBandwidth(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}
