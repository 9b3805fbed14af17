package vhdx

import (
	"sort"

	"hvmigrate/shared/vdisk"
)

// region is one region table entry (2.2.3).
type region struct {
	guid     vdisk.GUID
	off      int64
	length   int64
	required bool
}

// span is a byte range [off, off+n) of the file, used for overlap checks.
type span struct {
	off, n int64
	what   string
}

// parseRegionTable decodes and checks one 64 KiB region table copy on its
// own (placement is checked by placeRegions).
func parseRegionTable(b []byte) ([]region, error) {
	if len(b) < int(regionSize) {
		return nil, errf(ErrCorrupt, "short region table")
	}
	b = b[:regionSize]
	if string(b[0:4]) != sigRegion {
		return nil, errf(ErrCorrupt, "signature %q not %q", b[0:4], sigRegion)
	}
	if !checkCRC(b, 4) {
		return nil, errf(ErrBadChecksum, "checksum 0x%08x does not match", u32(b[4:]))
	}
	count := u32(b[8:])
	if count > maxRegionEntries {
		return nil, errf(ErrCorrupt, "entry count %d above %d", count, maxRegionEntries)
	}
	rs := make([]region, 0, count)
	for i := range int(count) {
		e := b[16+32*i:]
		r := region{guid: getGUID(e), required: u32(e[28:])&1 != 0}
		off, n := u64(e[16:]), u32(e[24:])
		if err := checkRegionEntry(off, n); err != nil {
			return nil, within(sprintf("entry %d", i), err)
		}
		r.off, r.length = int64(off), int64(n)
		for j := range rs {
			if rs[j].guid == r.guid {
				return nil, errf(ErrCorrupt, "entry %d: GUID %s repeats entry %d", i, r.guid, j)
			}
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// checkRegionEntry checks the alignment rules of one entry.
func checkRegionEntry(off uint64, n uint32) error {
	switch {
	case off%uint64(miB) != 0:
		return errf(ErrCorrupt, "offset 0x%x not 1 MiB aligned", off)
	case off < uint64(headerSection):
		return errf(ErrCorrupt, "offset 0x%x inside the header section", off)
	case off > uint64(maxFileSize):
		return errf(ErrCorrupt, "offset 0x%x too large", off)
	case int64(n)%miB != 0:
		return errf(ErrCorrupt, "length 0x%x not a multiple of 1 MiB", n)
	case n == 0:
		return errf(ErrCorrupt, "length 0")
	}
	return nil
}

// placeRegions checks the regions against the file and the log and returns
// the BAT and metadata regions.
func placeRegions(rs []region, fileSize int64, log span) (bat, meta region, err error) {
	var nBAT, nMeta int
	spans := []span{{0, headerSection, "header section"}}
	if log.n > 0 {
		spans = append(spans, log)
	}
	for i, r := range rs {
		name := r.guid.String()
		switch name {
		case guidBATRegion:
			bat, nBAT = r, nBAT+1
			name = "BAT"
		case guidMetadataRegion:
			meta, nMeta = r, nMeta+1
			name = "metadata"
		default:
			if r.required {
				return bat, meta, errf(ErrUnsupported, "entry %d: unknown required region %s", i, name)
			}
		}
		if r.off+r.length > fileSize {
			return bat, meta, errf(ErrCorrupt, "entry %d (%s): [0x%x, +0x%x) beyond end of file 0x%x", i, name, r.off, r.length, fileSize)
		}
		spans = append(spans, span{r.off, r.length, "region " + name})
	}
	if nBAT != 1 || nMeta != 1 {
		return bat, meta, errf(ErrCorrupt, "%d BAT and %d metadata regions, want 1 each", nBAT, nMeta)
	}
	return bat, meta, checkOverlaps(spans)
}

// checkOverlaps reports the first pair of overlapping spans.
func checkOverlaps(spans []span) error {
	s := append([]span(nil), spans...)
	sort.Slice(s, func(i, j int) bool { return s[i].off < s[j].off })
	for i := 1; i < len(s); i++ {
		if s[i-1].off+s[i-1].n > s[i].off {
			return errf(ErrCorrupt, "%s [0x%x, +0x%x) overlaps %s [0x%x, +0x%x)",
				s[i].what, s[i].off, s[i].n, s[i-1].what, s[i-1].off, s[i-1].n)
		}
	}
	return nil
}

// encodeRegionTable renders a region table with its checksum.
func encodeRegionTable(rs []region) []byte {
	b := make([]byte, regionSize)
	copy(b, sigRegion)
	put32(b[8:], uint32(len(rs)))
	for i, r := range rs {
		e := b[16+32*i:]
		putGUID(e, r.guid)
		put64(e[16:], uint64(r.off))
		put32(e[24:], uint32(r.length))
		if r.required {
			put32(e[28:], 1)
		}
	}
	putCRC(b, 4)
	return b
}
