package units_test

import (
	"errors"
	"testing"

	"hvmigrate/shared/units"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want units.Size
		err  bool
	}{
		{"4MiB", 4 << 20, false},
		{"1.5GiB", 3 << 29, false},
		{"512", 512, false},
		{"512B", 512, false},
		{" 2 kib ", 2048, false},
		{"1KB", 1000, false},
		{"0.5KiB", 512, false},
		{"8TiB", 8 << 40, false},
		{".5MiB", 1 << 19, false},
		{"1.3B", 0, true},
		{"-1MiB", 0, true},
		{"", 0, true},
		{"MiB", 0, true},
		{"1e3", 0, true},
		{"10000PiB", 0, true},
		{"9223372036854775808", 0, true},
		{"1.0000000000000000001KiB", 0, true},
		{"4 MiBs", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := units.ParseSize(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d, err=%v", tt.in, got, err, tt.want, tt.err)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}

func TestSize_String(t *testing.T) {
	tests := []struct {
		in   units.Size
		want string
	}{
		{4 << 20, "4MiB"}, {3 << 29, "1.5GiB"}, {1000, "1000B"}, {0, "0B"},
		{1<<30 + 512, "1048576.5KiB"}, {1<<20 + 512<<10 + 1<<10*256, "1.75MiB"}, {1023, "1023B"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", int64(tt.in), got, tt.want)
		}
		back, err := units.ParseSize(tt.in.String())
		if err != nil || back != tt.in {
			t.Errorf("round trip of %d: %d, %v", int64(tt.in), back, err)
		}
	}
}

func TestParseBandwidth(t *testing.T) {
	tests := []struct {
		in     string
		want   units.Bandwidth
		range_ bool
		err    bool
	}{
		{"512Kbps", 512 * units.Kbps, false, false},
		{"10Mbps", 10 * units.Mbps, false, false},
		{"1023Mbps", 1023 * units.Mbps, false, false},
		{"unlimited", units.Unlimited, false, false},
		{"Unlimited", units.Unlimited, false, false},
		{"1.5 Mbps", 1500 * units.Kbps, false, false},
		{"1gbps", units.Gbps, false, false},
		{"511Kbps", 0, true, true},
		{"1024Mbps", 0, true, true},
		{"2Gbps", 0, true, true},
		{"0Mbps", 0, true, true},
		{"10MBps", 0, false, true},
		{"10", 0, false, true},
		{"fast", 0, false, true},
		{"-5Mbps", 0, false, true},
		{"0.0001bps", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := units.ParseBandwidth(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseBandwidth(%q) = %d, %v", tt.in, got, err)
			}
			if errors.Is(err, units.ErrOutOfRange) != tt.range_ {
				t.Fatalf("range error = %v, want %v", err, tt.range_)
			}
			if err != nil {
				t.Log(err)
			}
		})
	}
}

func TestBandwidth_String(t *testing.T) {
	tests := []struct {
		in   units.Bandwidth
		want string
	}{
		{units.Unlimited, "unlimited"}, {512 * units.Kbps, "512Kbps"}, {10 * units.Mbps, "10Mbps"},
		{1023 * units.Mbps, "1023Mbps"}, {1500 * units.Kbps, "1.5Mbps"}, {units.Gbps, "1Gbps"}, {600001, "600001bps"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%d = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
	if got := (8 * units.Mbps).BytesPerSecond(); got != 1e6 {
		t.Errorf("8Mbps = %v B/s", got)
	}
}

func TestBandwidth_UnmarshalText_rangeChecked(t *testing.T) {
	var b units.Bandwidth
	if err := b.UnmarshalText([]byte("100Kbps")); !errors.Is(err, units.ErrOutOfRange) {
		t.Fatalf("err %v", err)
	}
	if err := b.UnmarshalText([]byte("20Mbps")); err != nil || b != 20*units.Mbps {
		t.Fatalf("%v %v", b, err)
	}
	var s units.Size
	if err := s.UnmarshalText([]byte("2GiB")); err != nil || s != 2*units.GiB {
		t.Fatalf("%v %v", s, err)
	}
}
