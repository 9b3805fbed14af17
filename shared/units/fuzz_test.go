package units_test

import (
	"testing"

	"hvmigrate/shared/units"
)

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"4MiB", "1.5GiB", "0", "1KB", ".5KiB", "9223372036854775807B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := units.ParseSize(s)
		if err != nil {
			return
		}
		if v < 0 {
			t.Fatalf("%q parsed to negative %d", s, v)
		}
		back, err := units.ParseSize(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, v.String(), back, err)
		}
	})
}

func FuzzParseBandwidth(f *testing.F) {
	for _, s := range []string{"512Kbps", "10Mbps", "1023Mbps", "unlimited", "1.5Mbps", "1Gbps"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := units.ParseBandwidth(s)
		if err != nil {
			return
		}
		if v.Validate() != nil {
			t.Fatalf("%q parsed out of range: %d", s, v)
		}
		back, err := units.ParseBandwidth(v.String())
		if err != nil || back != v {
			t.Fatalf("%q -> %d -> %q -> %d, %v", s, v, v.String(), back, err)
		}
	})
}
