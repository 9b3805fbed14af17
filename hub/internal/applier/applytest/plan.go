package applytest

import (
	"math/rand/v2"
	"sort"

	"hvmigrate/shared/delta"
)

// PlanOptions shape random plans.
type PlanOptions struct {
	// MaxExtents bounds the extents of one disk per cycle.
	MaxExtents int
	// Compression is the header's compression set.
	Compression delta.Compression
	// MaxLength, when set, caps extent lengths (a multiple of 512).
	MaxLength int64
}

// sector is the unit of every extent.
const sector = delta.SectorSize

// RandomPlan returns sorted, non-overlapping extents inside a disk of size
// bytes: data and zero, lengths from 512 B to 4 MiB + 512 (data extents
// longer than 4 MiB are split by the Writer), some placed to cross a 4 MiB
// boundary and some to end at the disk's last sector.
func RandomPlan(rng *rand.Rand, size int64, opt PlanOptions) []delta.Extent {
	n := 1 + rng.IntN(max(opt.MaxExtents, 1))
	var cands []delta.Extent
	for range n {
		cands = append(cands, randomExtent(rng, size, opt.MaxLength))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].Offset < cands[j].Offset })
	var plan []delta.Extent
	var end int64
	for _, e := range cands {
		if e.Offset < end {
			continue
		}
		plan = append(plan, e)
		end = e.End()
	}
	return plan
}

// randomExtent draws one extent.
func randomExtent(rng *rand.Rand, size, maxLength int64) delta.Extent {
	length := min(randomLength(rng), size)
	if maxLength > 0 {
		length = min(length, maxLength)
	}
	var off int64
	switch rng.IntN(4) {
	case 0: // end at the last sector
		off = size - length
	case 1: // cross a 4 MiB boundary
		b := (1 + rng.Int64N(max(size/delta.MaxChunk, 1))) * delta.MaxChunk
		off = max(0, min(b-sector*(1+rng.Int64N(max(length/sector, 1))), size-length))
	default:
		off = rng.Int64N((size-length)/sector+1) * sector
	}
	kind := delta.Data
	if rng.IntN(4) == 0 {
		kind = delta.Zero
	}
	return delta.Extent{Offset: off, Length: length, Kind: kind}
}

// randomLength draws a length, favouring the edges: 512 B, 4 MiB - 512,
// 4 MiB, 4 MiB + 512, and anything between.
func randomLength(rng *rand.Rand) int64 {
	switch rng.IntN(6) {
	case 0:
		return sector
	case 1:
		return delta.MaxChunk - sector
	case 2:
		return delta.MaxChunk
	case 3:
		return delta.MaxChunk + sector
	}
	return sector * (1 + rng.Int64N(delta.MaxChunk/sector+1))
}
