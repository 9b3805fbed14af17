package vhdx

// Payload and sector bitmap block states (2.5.1).
const (
	stNotPresent  = 0
	stUndefined   = 1
	stZero        = 2
	stUnmapped    = 3
	stUnmappedOld = 5 // UNMAPPED in the 0.95 draft; read as UNMAPPED
	stFull        = 6
	stPartial     = 7
	sbPresent     = 6

	batOffsetMask   = ^uint64(0xFFFFF)
	batReservedMask = uint64(0xFFFF8)
)

// geometry is the BAT layout of a disk.
type geometry struct {
	blockSize  int64
	sector     int64
	size       int64
	chunkRatio int64 // payload blocks per sector bitmap block
	blocks     int64 // payload blocks
	entries    int64 // BAT entries
	diff       bool
}

// newGeometry derives the BAT layout from validated parameters.
func newGeometry(p params) geometry {
	g := geometry{blockSize: p.blockSize, sector: p.logical, size: p.size, diff: p.hasParent}
	g.chunkRatio = (int64(1) << 23) * p.logical / p.blockSize
	g.blocks = (p.size + p.blockSize - 1) / p.blockSize
	if g.diff {
		g.entries = (g.blocks + g.chunkRatio - 1) / g.chunkRatio * (g.chunkRatio + 1)
	} else {
		g.entries = g.blocks + (g.blocks-1)/g.chunkRatio
	}
	return g
}

// payloadIndex is the BAT index of payload block b.
func (g geometry) payloadIndex(b int64) int64 { return b + b/g.chunkRatio }

// sbIndex is the BAT index of the sector bitmap block of chunk c.
func (g geometry) sbIndex(c int64) int64 { return c*(g.chunkRatio+1) + g.chunkRatio }

// isSBIndex reports whether BAT index i holds a sector bitmap entry.
func (g geometry) isSBIndex(i int64) bool { return i%(g.chunkRatio+1) == g.chunkRatio }

// blockOf is the payload block number at BAT index i (not an SB index).
func (g geometry) blockOf(i int64) int64 { return i - i/(g.chunkRatio+1) }

// sectorsPerBlock is the number of logical sectors in a payload block.
func (g geometry) sectorsPerBlock() int64 { return g.blockSize / g.sector }

// sbByteOffset is the offset inside its SB block of the bitmap byte that
// holds virtual sector s (always a multiple of 8 at block starts).
func (g geometry) sbByteOffset(s int64) int64 { return (s % (int64(1) << 23)) / 8 }

// entryState and entryOffset split a BAT entry.
func entryState(e uint64) int            { return int(e & 7) }
func entryOffset(e uint64) int64         { return int64(e & batOffsetMask) }
func makeEntry(st int, off int64) uint64 { return uint64(off)&batOffsetMask | uint64(st) }

// payloadStateValid reports whether st is a payload state for this disk.
func (g geometry) payloadStateValid(st int) bool {
	switch st {
	case stNotPresent, stUndefined, stZero, stUnmapped, stUnmappedOld, stFull:
		return true
	case stPartial:
		return g.diff
	}
	return false
}
