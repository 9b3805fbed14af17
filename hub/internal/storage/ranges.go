package storage

import (
	"cmp"
	"slices"

	"hvmigrate/shared/storeerr"
)

// Range is the byte range [Off, Off+N) of a blob.
type Range struct {
	Off, N int64
}

// End returns the offset just past the range.
func (r Range) End() int64 { return r.Off + r.N }

// CheckPageRanges checks the window and limit of one PageRanges call.
func CheckPageRanges(op, name string, off, n int64, limit int) error {
	switch {
	case off < 0 || off%PageSize != 0 || n%PageSize != 0 || n <= 0:
		return storeerr.Invalid(op, name, "window %d+%d is not page aligned", off, n)
	case limit <= 0:
		return storeerr.Invalid(op, name, "limit %d is not positive", limit)
	}
	return nil
}

// LimitRanges shapes the ranges of a listing complete for [off, listed):
// it clips them to that window, sorts and merges them, and keeps at most
// limit. It returns them with the offset up to which they describe the
// window: listed, or the end of the last range kept when some were
// dropped.
func LimitRanges(rs []Range, off, listed int64, limit int) ([]Range, int64) {
	slices.SortFunc(rs, func(a, b Range) int { return cmp.Compare(a.Off, b.Off) })
	var out []Range
	for _, r := range rs {
		lo, hi := max(r.Off, off), min(r.End(), listed)
		if lo >= hi {
			continue
		}
		if k := len(out) - 1; k >= 0 && lo <= out[k].End() {
			out[k].N = max(out[k].End(), hi) - out[k].Off
			continue
		}
		out = append(out, Range{Off: lo, N: hi - lo})
	}
	if len(out) > limit {
		out = out[:limit]
		listed = out[limit-1].End()
	}
	return out, listed
}
