package vhd

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
)

// validateFooter checks the footer fields against each other and the file.
func (l *layer) validateFooter() error {
	f := &l.footer
	bad := func(sentinel error, format string, a ...any) error {
		return ferr(l.path, "footer", sentinel, fmt.Sprintf(format, a...))
	}
	if f.Version>>16 != 1 {
		return bad(ErrUnsupported, "FileFormatVersion 0x%08x has major version %d, not 1", f.Version, f.Version>>16)
	}
	limit := uint64(maxDynamicSize)
	switch f.DiskType {
	case TypeFixed:
		limit = maxFixedSize
	case TypeDynamic, TypeDifferencing:
	default:
		return bad(ErrUnsupported, "DiskType %d is not fixed (2), dynamic (3) or differencing (4)", uint32(f.DiskType))
	}
	if f.CurrentSize == 0 || f.CurrentSize%512 != 0 {
		return bad(ErrCorrupt, "CurrentSize %d is not a positive multiple of 512", f.CurrentSize)
	}
	if f.CurrentSize > limit {
		return bad(ErrUnsupported, "CurrentSize %d exceeds the %d bytes supported for %s disks", f.CurrentSize, limit, f.DiskType)
	}
	l.footerWarnings()
	if f.DiskType == TypeFixed {
		return l.validateFixed()
	}
	if f.DataOffset < FooterSize || f.DataOffset > uint64(l.dataEnd()) || uint64(l.dataEnd())-f.DataOffset < HeaderSize {
		return bad(ErrCorrupt, "DataOffset %d does not leave a 1024-byte header between the two footers of a %d-byte file",
			f.DataOffset, l.fileSize)
	}
	return nil
}

// footerWarnings records footer oddities that do not stop reading.
func (l *layer) footerWarnings() {
	f := &l.footer
	if f.Features&featureReserved == 0 {
		l.warnf("footer: Features 0x%08x lacks the reserved bit 0x2", f.Features)
	}
	if f.SavedState != 0 {
		l.warnf("footer: SavedState is set; the disk may not be crash-consistent")
	}
	if g := f.Geometry.Bytes(); uint64(g) > f.CurrentSize {
		l.warnf("footer: geometry %d/%d/%d covers %d bytes, more than CurrentSize %d; using CurrentSize",
			f.Geometry.Cylinders, f.Geometry.Heads, f.Geometry.SectorsPerTrack, g, f.CurrentSize)
	}
}

// validateFixed checks the file size of a fixed disk.
func (l *layer) validateFixed() error {
	if l.footer.DataOffset != fixedDataOffset {
		l.warnf("footer: DataOffset 0x%x of a fixed disk is not all ones", l.footer.DataOffset)
	}
	if want := int64(l.footer.CurrentSize) + l.footerLen; l.fileSize != want {
		return ferr(l.path, "footer", ErrCorrupt,
			fmt.Sprintf("CurrentSize %d of a fixed disk needs a %d-byte file, the file has %d", l.footer.CurrentSize, want, l.fileSize))
	}
	return nil
}

// readHeader reads and validates the dynamic header.
func (l *layer) readHeader() error {
	b := make([]byte, HeaderSize)
	if err := l.pread(b, int64(l.footer.DataOffset), "dynamic header"); err != nil {
		return err
	}
	h, err := decodeHeader(l.path, b)
	if err != nil {
		return err
	}
	if err := validateHeader(l.path, &h, &l.footer); err != nil {
		return err
	}
	l.hdr = &h
	l.blockSize = int64(h.BlockSize)
	l.bitmapLen = bitmapLen(l.blockSize)
	return nil
}

// region is a byte range of the file.
type region struct{ start, end int64 }

// batRegion is the BAT's extent in the file, padded to a sector.
func (l *layer) batRegion() region {
	n := (int64(l.hdr.MaxTableEntries)*4 + 511) / 512 * 512
	return region{int64(l.hdr.TableOffset), int64(l.hdr.TableOffset) + n}
}

// readBAT loads the BAT entries that cover the virtual size, after checking
// that the whole table lies inside the file clear of the footers and header.
func (l *layer) readBAT() error {
	h := l.hdr
	if h.TableOffset > uint64(l.fileSize) {
		return ferr(l.path, "dynamic header", ErrCorrupt, fmt.Sprintf("TableOffset %d is beyond the end of the %d-byte file", h.TableOffset, l.fileSize))
	}
	bat := l.batRegion()
	if err := l.checkRegion("BAT", bat); err != nil {
		return err
	}
	hdr := region{int64(l.footer.DataOffset), int64(l.footer.DataOffset) + HeaderSize}
	if bat.start < hdr.end && hdr.start < bat.end {
		return ferr(l.path, "dynamic header", ErrCorrupt, fmt.Sprintf("BAT [%d, %d) overlaps the dynamic header at %d", bat.start, bat.end, hdr.start))
	}
	blocks := (int64(l.footer.CurrentSize) + l.blockSize - 1) / l.blockSize
	l.bat = make([]uint32, blocks)
	buf := make([]byte, 64<<10)
	for i := int64(0); i < blocks; {
		n := min(blocks-i, int64(len(buf)/4))
		if err := l.pread(buf[:n*4], bat.start+i*4, "BAT"); err != nil {
			return err
		}
		for j := range n {
			l.bat[i+j] = binary.BigEndian.Uint32(buf[j*4:])
		}
		i += n
	}
	return l.validateBlocks([]region{{0, FooterSize}, hdr, bat})
}

// checkRegion reports a structure that is not inside [512, dataEnd).
func (l *layer) checkRegion(structure string, r region) error {
	if r.start < FooterSize || r.end > l.dataEnd() {
		return ferr(l.path, structure, ErrCorrupt, fmt.Sprintf("[%d, %d) is not between the footer copy and the footer of a %d-byte file", r.start, r.end, l.fileSize))
	}
	return nil
}

// validateBlocks checks that every allocated block lies inside the file and
// overlaps neither the fixed structures nor another block.
func (l *layer) validateBlocks(fixed []region) error {
	var idx []int
	for i, e := range l.bat {
		if e != unallocated {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(l.bat[a], l.bat[b]) })
	span := l.bitmapLen + l.blockSize
	prev := region{}
	for k, i := range idx {
		r := region{int64(l.bat[i]) * 512, int64(l.bat[i])*512 + span}
		where := fmt.Sprintf("entry %d (sector %d)", i, l.bat[i])
		if r.start < FooterSize || r.end > l.dataEnd() {
			return ferr(l.path, "BAT", ErrCorrupt, fmt.Sprintf("%s: block [%d, %d) is outside the data area of the %d-byte file", where, r.start, r.end, l.fileSize))
		}
		for _, f := range fixed {
			if r.start < f.end && f.start < r.end {
				return ferr(l.path, "BAT", ErrCorrupt, fmt.Sprintf("%s: block [%d, %d) overlaps metadata at [%d, %d)", where, r.start, r.end, f.start, f.end))
			}
		}
		if k > 0 && r.start < prev.end {
			return ferr(l.path, "BAT", ErrCorrupt, fmt.Sprintf("%s: block [%d, %d) overlaps another block ending at %d", where, r.start, r.end, prev.end))
		}
		prev = r
	}
	return nil
}
