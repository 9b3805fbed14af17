package vhd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"hvmigrate/shared/vdisk"
)

func TestAzureFixedFooter_goldenVector(t *testing.T) {
	// Digest section 5: TimeStamp 0, UniqueId zero, V = 64 MiB.
	b, err := AzureFixedFooter(64<<20, vdisk.GUID{}, time.Unix(vhdEpochUnix, 0))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hex.DecodeString(strings.Join([]string{
		"636f6e6563746978", "00000002", "00010000", "ffffffffffffffff", "00000000",
		"77696e20", "000a0000", "5769326b", "0000000004000000", "0000000004000000",
		"03c3", "08", "11", "00000002", "fffff0e9", "00000000000000000000000000000000", "00",
	}, ""))
	if len(b) != FooterSize {
		t.Fatalf("len = %d", len(b))
	}
	if !bytes.Equal(b[:85], want) {
		t.Fatalf("footer head\n got %x\nwant %x", b[:85], want)
	}
	if !bytes.Equal(b[85:], make([]byte, 427)) {
		t.Fatal("reserved bytes are not zero")
	}
}

func TestAzureFixedFooter_roundTrip(t *testing.T) {
	id := vdisk.GUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	b, err := AzureFixedFooter(3<<30, id, now)
	if err != nil {
		t.Fatal(err)
	}
	f, err := decodeFooter("x", b)
	if err != nil {
		t.Fatal(err)
	}
	if f.CurrentSize != 3<<30 || f.OriginalSize != 3<<30 || f.UniqueID != id || f.DiskType != TypeFixed ||
		!Time(f.TimeStamp).Equal(now) || f.Geometry != CHSFor(3<<30) || string(f.CreatorApp[:]) != "win " {
		t.Fatalf("decoded %+v", f)
	}
}

func TestAzureFixedFooter_rejects(t *testing.T) {
	ok := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		size int64
		t    time.Time
	}{
		{"zero_size", 0, ok},
		{"negative_size", -mib, ok},
		{"not_whole_mib", mib + 512, ok},
		{"too_large", MaxAzureSize + mib, ok},
		{"before_2000", mib, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"after_2136", mib, time.Date(2137, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := AzureFixedFooter(tt.size, vdisk.GUID{}, tt.t); !errors.Is(err, ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestCHSFor_vectors(t *testing.T) {
	tests := []struct {
		size int64
		want Geometry
	}{
		{20 << 20, Geometry{602, 4, 17}},
		{64 << 20, Geometry{963, 8, 17}},
		{1 << 30, Geometry{2080, 16, 63}},
		{65535 * 16 * 63 * 512, Geometry{16191, 16, 255}},
		{127 << 30, Geometry{65278, 16, 255}},
		{128 << 30, Geometry{65535, 16, 255}},
		{2 << 40, Geometry{65535, 16, 255}},
	}
	for _, tt := range tests {
		if got := CHSFor(tt.size); got != tt.want {
			t.Errorf("CHSFor(%d) = %v, want %v", tt.size, got, tt.want)
		}
	}
}

func TestReplicaSize_rounding(t *testing.T) {
	tests := []struct{ in, want int64 }{
		{0, 0}, {-5, 0}, {1, mib}, {512, mib}, {mib, mib}, {mib + 1, 2 * mib}, {67125248, 65 * mib}, {1 << 40, 1 << 40},
	}
	for _, tt := range tests {
		if got := ReplicaSize(tt.in); got != tt.want {
			t.Errorf("ReplicaSize(%d) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDecodeFooter_checksum(t *testing.T) {
	b, err := AzureFixedFooter(mib, vdisk.GUID{9}, time.Unix(vhdEpochUnix+77, 0))
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 1 // reserved byte, covered by the checksum
	if _, err := decodeFooter("f.vhd", b); !errors.Is(err, ErrBadChecksum) {
		t.Fatalf("err = %v, want ErrBadChecksum", err)
	}
	b[100] ^= 1
	b[0] = 'C'
	if _, err := decodeFooter("f.vhd", b); !errors.Is(err, ErrNotVHD) {
		t.Fatalf("err = %v, want ErrNotVHD", err)
	}
}
