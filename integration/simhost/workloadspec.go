package simhost

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"hvmigrate/shared/units"
)

// Pattern is where a workload's writes land.
type Pattern string

// Workload patterns.
const (
	PatternRandom     Pattern = "random"
	PatternSequential Pattern = "sequential"
)

// IOSize is one entry of a workload's I/O size distribution.
type IOSize struct {
	Bytes  int64 `json:"bytes"`
	Weight int   `json:"weight"`
}

// WorkloadSpec describes generated guest writes.
type WorkloadSpec struct {
	VMID string
	// Disks are the disk indexes written, round robin; empty means all.
	Disks   []int
	Pattern Pattern
	// Sizes is the I/O size distribution; empty means 64 KiB only.
	Sizes []IOSize
	// RateBytesPerSec throttles the workload; 0 means as fast as it goes.
	RateBytesPerSec int64
	// Duration and TotalBytes end the workload, whichever comes first; at
	// least one must be set.
	Duration   time.Duration
	TotalBytes int64
	// OverwriteRatio is the fraction of writes aimed at regions this
	// workload already wrote (partly or wholly overlapping them).
	OverwriteRatio float64
	// Seed makes the offsets, sizes and data reproducible.
	Seed uint64
}

// WorkloadProgress reports a workload's work so far.
type WorkloadProgress struct {
	Writes  int64         `json:"writes"`
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"elapsed"`
	Done    bool          `json:"done"`
}

// Rate is the achieved rate in bytes per second.
func (p WorkloadProgress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Bytes) / p.Elapsed.Seconds()
}

// ParseIOSizes parses a distribution such as "4k:50,64k:40,1m:10" (size,
// colon, weight; a size without weight weighs 1). Sizes take binary
// suffixes: 4k is 4096 bytes.
func ParseIOSizes(s string) ([]IOSize, error) {
	var out []IOSize
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sz, w, hasW := strings.Cut(part, ":")
		n, err := units.ParseSize(binarySuffix(sz))
		if err != nil {
			return nil, fmt.Errorf("i/o size %q: %w: %w", sz, ErrInvalid, err)
		}
		weight := 1
		if hasW {
			if weight, err = strconv.Atoi(w); err != nil || weight <= 0 {
				return nil, fmt.Errorf("weight %q of %s: %w: want a positive integer", w, sz, ErrInvalid)
			}
		}
		out = append(out, IOSize{Bytes: int64(n), Weight: weight})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("i/o sizes %q: %w: empty", s, ErrInvalid)
	}
	return out, nil
}

// ParseSize parses a byte size: a number with an optional binary unit,
// either short (4k, 64K, 1m, 10G, 2t) or long (4KiB, 1.5GiB); decimal
// units (MB, GB) are accepted as well.
func ParseSize(s string) (int64, error) {
	n, err := units.ParseSize(binarySuffix(strings.TrimSpace(s)))
	return int64(n), err
}

// binarySuffix turns a one-letter unit (k, m, g, t) into its binary name.
func binarySuffix(s string) string {
	if s == "" {
		return s
	}
	switch s[len(s)-1] {
	case 'k', 'K':
		return s[:len(s)-1] + "KiB"
	case 'm', 'M':
		return s[:len(s)-1] + "MiB"
	case 'g', 'G':
		return s[:len(s)-1] + "GiB"
	case 't', 'T':
		return s[:len(s)-1] + "TiB"
	}
	return s
}

// normalize fills defaults and checks the spec against the VM's disks.
func (s WorkloadSpec) normalize(v *vm) (WorkloadSpec, error) {
	bad := func(f string, a ...any) (WorkloadSpec, error) {
		return s, fmt.Errorf("workload: %w: %s", ErrInvalid, fmt.Sprintf(f, a...))
	}
	if s.Pattern == "" {
		s.Pattern = PatternRandom
	}
	if s.Pattern != PatternRandom && s.Pattern != PatternSequential {
		return bad("pattern %q: want %s or %s", s.Pattern, PatternRandom, PatternSequential)
	}
	if len(s.Sizes) == 0 {
		s.Sizes = []IOSize{{Bytes: 64 << 10, Weight: 1}}
	}
	if s.Duration <= 0 && s.TotalBytes <= 0 {
		return bad("give a duration or a total byte count")
	}
	if s.OverwriteRatio < 0 || s.OverwriteRatio > 1 || s.RateBytesPerSec < 0 {
		return bad("overwrite ratio %g must be in [0, 1] and rate %d not negative", s.OverwriteRatio, s.RateBytesPerSec)
	}
	if len(s.Disks) == 0 {
		for i := range v.disks {
			s.Disks = append(s.Disks, i)
		}
	}
	for _, i := range s.Disks {
		if i < 0 || i >= len(v.disks) {
			return bad("disk %d: the vm has disks 0 to %d", i, len(v.disks)-1)
		}
		for _, sz := range s.Sizes {
			ss := int64(v.disks[i].rec.LogicalSectorSize)
			if sz.Bytes <= 0 || sz.Bytes%ss != 0 || sz.Bytes > 64<<20 || sz.Bytes > v.disks[i].rec.Size || sz.Weight <= 0 {
				return bad("i/o size %d (weight %d) on disk %d: must be a multiple of %d bytes, at most 64 MiB and the disk size, with a positive weight", sz.Bytes, sz.Weight, i, ss)
			}
		}
	}
	return s, nil
}
