package vhdx

import (
	"hvmigrate/shared/vdisk"
)

// layout is where a new file's structures go.
type layout struct {
	logOff, logLen   int64
	metaOff, metaLen int64
	batOff, batLen   int64
	dataOff          int64 // first payload block
}

// newLayout places the log at 1 MiB, then the metadata region, then the BAT
// region, each 1 MiB aligned.
func newLayout(g geometry, logLen int64) layout {
	var lo layout
	lo.logOff, lo.logLen = headerSection, logLen
	lo.metaOff, lo.metaLen = lo.logOff+logLen, miB
	lo.batOff, lo.batLen = lo.metaOff+miB, alignUp(g.entries*8, miB)
	lo.dataOff = lo.batOff + lo.batLen
	return lo
}

// fileIdentifier renders the 64 KiB file type identifier.
func fileIdentifier() []byte {
	b := make([]byte, 64*kiB)
	copy(b, sigFile)
	for i, c := range "hvmigrate" {
		put16(b[8+2*i:], uint16(c))
	}
	return b
}

// regionTable renders the region table of a layout.
func (lo layout) regionTable() []byte {
	return encodeRegionTable([]region{
		{guid: mustGUID(guidBATRegion), off: lo.batOff, length: lo.batLen, required: true},
		{guid: mustGUID(guidMetadataRegion), off: lo.metaOff, length: lo.metaLen, required: true},
	})
}

// metaItem is a metadata item to write.
type metaItem struct {
	id    string
	flags uint32
	data  []byte
}

// metadataRegion renders the metadata table and items for p.
func metadataRegion(p params) []byte {
	u32b := func(v uint32) []byte { b := make([]byte, 4); put32(b, v); return b }
	u64b := func(v uint64) []byte { b := make([]byte, 8); put64(b, v); return b }
	var flags uint32
	if p.leaveAllocated {
		flags |= 1
	}
	if p.hasParent {
		flags |= 2
	}
	fp := append(u32b(uint32(p.blockSize)), u32b(flags)...)
	id := make([]byte, 16)
	putGUID(id, p.diskID)
	items := []metaItem{
		{guidFileParams, 4, fp}, {guidVirtualSize, 6, u64b(uint64(p.size))}, {guidDiskID, 6, id},
		{guidLogicalSector, 6, u32b(uint32(p.logical))}, {guidPhysicalSector, 6, u32b(uint32(p.physical))},
	}
	if p.hasParent {
		items = append(items, metaItem{guidParentLocator, 4, p.locator})
	}
	return encodeMetadata(items)
}

// encodeMetadata renders a metadata table with items packed from 64 KiB.
func encodeMetadata(items []metaItem) []byte {
	b := make([]byte, metadataTableSize)
	copy(b, sigMetadata)
	put16(b[10:], uint16(len(items)))
	for i, it := range items {
		e := b[32+32*i:]
		putGUID(e, mustGUID(it.id))
		put32(e[16:], uint32(len(b)))
		put32(e[20:], uint32(len(it.data)))
		put32(e[24:], it.flags)
		b = append(b, it.data...)
	}
	return b
}

// newHeader is the first header of a new file.
func newHeader(lo layout) (header, error) {
	h := header{seq: 1, version: 1, logLength: uint32(lo.logLen), logOffset: uint64(lo.logOff)}
	var err error
	for _, g := range []*vdisk.GUID{&h.fileWrite, &h.dataWrite} {
		if *g, err = newGUID(); err != nil {
			return h, err
		}
	}
	return h, nil
}

// piece is bytes to write at a file offset.
type piece struct {
	off int64
	b   []byte
}

// skeleton renders every structure of a new file, the BAT given in full.
func skeleton(lo layout, h header, p params, bat []byte) []piece {
	h2 := h
	h2.seq++
	return []piece{
		{0, fileIdentifier()},
		{header1Off, h.encode()}, {header2Off, h2.encode()},
		{region1Off, lo.regionTable()}, {region2Off, lo.regionTable()},
		{lo.metaOff, metadataRegion(p)},
		{lo.batOff, bat},
	}
}
