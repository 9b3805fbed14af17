package vhd

import (
	"fmt"
	"time"

	"hvmigrate/shared/vdisk"
)

const (
	mib = 1 << 20
	// MaxAzureSize is the largest virtual size AzureFixedFooter accepts: the
	// largest disk Azure accepts as an uploaded fixed VHD (32 TiB).
	MaxAzureSize = 32 << 40
)

// ReplicaSize is the data part of an Azure replica of a disk of virtualSize
// bytes: virtualSize rounded up to a whole MiB. The 512-byte footer follows
// it, so the blob is ReplicaSize(v)+FooterSize bytes long.
func ReplicaSize(virtualSize int64) int64 {
	if virtualSize <= 0 {
		return 0
	}
	return (virtualSize + mib - 1) / mib * mib
}

// AzureFixedFooter returns the 512-byte fixed-VHD footer of an Azure replica
// disk holding virtualSize bytes, placed at byte offset virtualSize. The
// virtual size must be a positive whole number of MiB (use ReplicaSize) and
// at most MaxAzureSize; t must be representable as a VHD timestamp (2000 to
// 2136). The creator is "win " so that every reader takes the size from
// CurrentSize; the geometry follows the specification's algorithm.
func AzureFixedFooter(virtualSize int64, uniqueID vdisk.GUID, t time.Time) ([]byte, error) {
	if virtualSize <= 0 || virtualSize%mib != 0 || virtualSize > MaxAzureSize {
		return nil, fmt.Errorf("vhd: azure footer: virtual size %d is not a whole number of MiB in (0, 32 TiB]: %w",
			virtualSize, ErrUnsupported)
	}
	ts, err := vhdTime(t)
	if err != nil {
		return nil, err
	}
	f := Footer{
		Features:       featureReserved,
		Version:        footerVersion,
		DataOffset:     fixedDataOffset,
		TimeStamp:      ts,
		CreatorApp:     [4]byte{'w', 'i', 'n', ' '},
		CreatorVersion: 0x000A0000,
		CreatorHostOS:  0x5769326B, // "Wi2k"
		OriginalSize:   uint64(virtualSize),
		CurrentSize:    uint64(virtualSize),
		Geometry:       CHSFor(virtualSize),
		DiskType:       TypeFixed,
		UniqueID:       uniqueID,
	}
	return f.MarshalBinary()
}

// vhdTime converts t to seconds since 2000-01-01T00:00:00Z.
func vhdTime(t time.Time) (uint32, error) {
	s := t.Unix() - vhdEpochUnix
	if s < 0 || s > int64(^uint32(0)) {
		return 0, fmt.Errorf("vhd: time %s is outside the VHD timestamp range: %w", t.UTC().Format(time.RFC3339), ErrUnsupported)
	}
	return uint32(s), nil
}

// Time converts a VHD timestamp to a time.Time in UTC.
func Time(ts uint32) time.Time {
	return time.Unix(vhdEpochUnix+int64(ts), 0).UTC()
}
