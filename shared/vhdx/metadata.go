package vhdx

import (
	"hvmigrate/shared/vdisk"
)

// metaEntry is one metadata table entry (2.6.1.2).
type metaEntry struct {
	id       vdisk.GUID
	off      uint32
	length   uint32
	user     bool
	virtual  bool
	required bool
}

// parseMetadataTable decodes and checks the 64 KiB metadata table of a
// region of regionLen bytes.
func parseMetadataTable(b []byte, regionLen int64) ([]metaEntry, error) {
	if len(b) < int(metadataTableSize) {
		return nil, errf(ErrCorrupt, "metadata table: short")
	}
	if string(b[0:8]) != sigMetadata {
		return nil, errf(ErrCorrupt, "metadata table: signature %q not %q", b[0:8], sigMetadata)
	}
	count := int(u16(b[10:]))
	if count > maxMetadataEntries {
		return nil, errf(ErrCorrupt, "metadata table: entry count %d above %d", count, maxMetadataEntries)
	}
	es := make([]metaEntry, 0, count)
	spans := []span{{0, metadataTableSize, "table"}}
	users := 0
	for i := range count {
		e, err := parseMetaEntry(b[32+32*i:], regionLen)
		if err != nil {
			return nil, within(sprintf("metadata table: entry %d", i), err)
		}
		for j := range es {
			if es[j].id == e.id && es[j].user == e.user {
				return nil, errf(ErrCorrupt, "metadata table: entry %d: item %s repeats entry %d", i, e.id, j)
			}
		}
		if e.user {
			users++
		}
		if e.length > 0 {
			spans = append(spans, span{int64(e.off), int64(e.length), sprintf("entry %d", i)})
		}
		es = append(es, e)
	}
	if users > maxUserItems {
		return nil, errf(ErrCorrupt, "metadata table: %d user items above %d", users, maxUserItems)
	}
	if err := checkOverlaps(spans); err != nil {
		return nil, within("metadata table", err)
	}
	return es, nil
}

// parseMetaEntry decodes one entry and checks its placement.
func parseMetaEntry(b []byte, regionLen int64) (metaEntry, error) {
	flags := u32(b[24:])
	e := metaEntry{
		id: getGUID(b), off: u32(b[16:]), length: u32(b[20:]),
		user: flags&1 != 0, virtual: flags&2 != 0, required: flags&4 != 0,
	}
	switch {
	case e.length == 0 && e.off == 0:
		return e, nil
	case int64(e.off) < metadataTableSize:
		return e, errf(ErrCorrupt, "offset 0x%x below 64 KiB", e.off)
	case int64(e.length) > maxItemLength:
		return e, errf(ErrCorrupt, "length 0x%x above 1 MiB", e.length)
	case int64(e.off)+int64(e.length) > regionLen:
		return e, errf(ErrCorrupt, "item [0x%x, +0x%x) beyond region length 0x%x", e.off, e.length, regionLen)
	}
	return e, nil
}

// params holds the system metadata items of a disk.
type params struct {
	blockSize      int64
	leaveAllocated bool
	hasParent      bool
	size           int64
	diskID         vdisk.GUID
	logical        int64
	physical       int64
	locator        []byte // raw parent locator item, nil without a parent
}

// readParams reads and validates the system items; read returns length
// bytes at an offset from the metadata region's start.
func readParams(es []metaEntry, read func(off, n int64) ([]byte, error)) (params, error) {
	var p params
	items := map[string][]byte{}
	for i, e := range es {
		name := e.id.String()
		known := !e.user && isKnownItem(name)
		if !known {
			if e.required {
				return p, errf(ErrUnsupported, "metadata table: entry %d: unknown required item %s", i, name)
			}
			continue
		}
		b, err := read(int64(e.off), int64(e.length))
		if err != nil {
			return p, err
		}
		items[name] = b
	}
	return decodeParams(items)
}

// isKnownItem reports whether name is a system item this package reads.
func isKnownItem(name string) bool {
	switch name {
	case guidFileParams, guidVirtualSize, guidDiskID, guidLogicalSector, guidPhysicalSector, guidParentLocator:
		return true
	}
	return false
}

// decodeParams decodes and validates the known items by GUID text.
func decodeParams(items map[string][]byte) (params, error) {
	var p params
	want := []struct {
		id, name string
		n        int
	}{
		{guidFileParams, "file parameters", 8}, {guidVirtualSize, "virtual disk size", 8},
		{guidDiskID, "virtual disk id", 16}, {guidLogicalSector, "logical sector size", 4},
		{guidPhysicalSector, "physical sector size", 4},
	}
	for _, w := range want {
		b, ok := items[w.id]
		if !ok {
			return p, errf(ErrCorrupt, "metadata: %s item missing", w.name)
		}
		if len(b) < w.n {
			return p, errf(ErrCorrupt, "metadata: %s item length %d below %d", w.name, len(b), w.n)
		}
	}
	fp := items[guidFileParams]
	flags := u32(fp[4:])
	p.blockSize, p.leaveAllocated, p.hasParent = int64(u32(fp)), flags&1 != 0, flags&2 != 0
	p.size = int64(u64(items[guidVirtualSize]))
	p.diskID = getGUID(items[guidDiskID])
	p.logical = int64(u32(items[guidLogicalSector]))
	p.physical = int64(u32(items[guidPhysicalSector]))
	if flags&^3 != 0 {
		return p, errf(ErrCorrupt, "metadata: file parameters: reserved flag bits 0x%x set", flags&^3)
	}
	loc, hasLoc := items[guidParentLocator]
	if hasLoc != p.hasParent {
		return p, errf(ErrCorrupt, "metadata: parent locator present=%v but HasParent=%v", hasLoc, p.hasParent)
	}
	p.locator = loc
	return p, p.check()
}

// check validates the item values.
func (p params) check() error {
	switch {
	case !isPow2(p.blockSize) || p.blockSize < minBlockSize || p.blockSize > maxBlockSize:
		return errf(ErrCorrupt, "metadata: file parameters: block size %d not a power of two in [1 MiB, 256 MiB]", p.blockSize)
	case p.logical != 512 && p.logical != 4096:
		return errf(ErrCorrupt, "metadata: logical sector size %d not 512 or 4096", p.logical)
	case p.physical != 512 && p.physical != 4096:
		return errf(ErrCorrupt, "metadata: physical sector size %d not 512 or 4096", p.physical)
	case p.size <= 0 || p.size > maxVirtualSize:
		return errf(ErrCorrupt, "metadata: virtual disk size %d not in (0, 64 TiB]", p.size)
	case p.size%p.logical != 0:
		return errf(ErrCorrupt, "metadata: virtual disk size %d not a multiple of the logical sector size %d", p.size, p.logical)
	}
	return nil
}
