package vhd

// CHSFor computes the CHS geometry the VHD specification's appendix assigns
// to a disk of size bytes. The geometry rounds down, so Geometry.Bytes() is
// usually a little smaller than size; sizes beyond 65535*16*255 sectors get
// the maximum geometry.
func CHSFor(size int64) Geometry {
	const maxSectors = 65535 * 16 * 255
	total := size / 512
	if total > maxSectors {
		total = maxSectors
	}
	var spt, heads, cth int64
	if total >= 65535*16*63 {
		spt, heads = 255, 16
		cth = total / spt
	} else {
		spt = 17
		cth = total / spt
		heads = max((cth+1023)/1024, 4)
		if cth >= heads*1024 || heads > 16 {
			spt, heads = 31, 16
			cth = total / spt
		}
		if cth >= heads*1024 {
			spt, heads = 63, 16
			cth = total / spt
		}
	}
	return Geometry{Cylinders: uint16(cth / heads), Heads: uint8(heads), SectorsPerTrack: uint8(spt)}
}
