package vhdtest

import "encoding/binary"

// footer encodes the 512-byte footer with the given DataOffset.
func (im *Image) footer(dataOffset uint64) []byte {
	b := make([]byte, 512)
	be := binary.BigEndian
	copy(b, "conectix")
	be.PutUint32(b[8:], 2)
	be.PutUint32(b[12:], 0x00010000)
	be.PutUint64(b[16:], dataOffset)
	be.PutUint32(b[24:], im.TimeStamp)
	creator := im.Creator
	if creator == "" {
		creator = "win "
	}
	copy(b[28:32], creator)
	be.PutUint32(b[32:], 0x000A0000)
	copy(b[36:40], "Wi2k")
	be.PutUint64(b[40:], uint64(im.Size))
	be.PutUint64(b[48:], uint64(im.Size))
	be.PutUint16(b[56:], 1) // geometry is not used by readers of this size rule
	b[58], b[59] = 1, 1
	be.PutUint32(b[60:], im.Type)
	copy(b[68:84], im.UniqueID[:])
	be.PutUint32(b[64:], sum(b))
	return b
}

// dynamic lays out a dynamic or differencing file: footer copy, header,
// BAT, locator data, blocks, footer.
func (im *Image) dynamic() []byte {
	be := binary.BigEndian
	bs := im.blockSize()
	entries := uint32((im.Size+bs-1)/bs) + im.ExtraEntries
	batLen := (int64(entries)*4 + 511) / 512 * 512
	meta := make([]byte, 1536+batLen) // footer copy, header, BAT
	copy(meta, im.footer(512))
	hdr := meta[512:1536]
	copy(hdr, "cxsparse")
	be.PutUint64(hdr[8:], ^uint64(0))
	be.PutUint64(hdr[16:], 1536)
	be.PutUint32(hdr[24:], 0x00010000)
	be.PutUint32(hdr[28:], entries)
	be.PutUint32(hdr[32:], uint32(bs))
	bat := meta[1536:]
	for i := range entries {
		be.PutUint32(bat[4*i:], 0xFFFFFFFF)
	}
	rest := im.appendParent(hdr, nil, int64(len(meta)))
	for _, blk := range im.blockOrder() {
		be.PutUint32(bat[4*blk:], uint32((int64(len(meta))+int64(len(rest)))/512))
		rest = append(rest, im.blocks[blk]...)
	}
	be.PutUint32(hdr[36:], sum(hdr))
	out := append(meta, rest...)
	return append(out, im.footer(512)...)
}

// appendParent fills the header's parent fields and appends locator data
// to out, which starts at file offset base.
func (im *Image) appendParent(hdr, out []byte, base int64) []byte {
	p := im.Parent
	if p == nil {
		return out
	}
	be := binary.BigEndian
	copy(hdr[40:56], p.UniqueID[:])
	be.PutUint32(hdr[56:], p.TimeStamp)
	copy(hdr[64:576], utf16Bytes(p.Name, binary.BigEndian))
	slot := 0
	for _, loc := range []struct {
		code string
		path string
	}{{"W2ru", p.Relative}, {"W2ku", p.Absolute}} {
		if loc.path == "" {
			continue
		}
		data := utf16Bytes(loc.path, binary.LittleEndian)
		space := (len(data) + 511) / 512 * 512
		e := hdr[576+24*slot:]
		copy(e, loc.code)
		be.PutUint32(e[4:], uint32(space))
		be.PutUint32(e[8:], uint32(len(data)))
		be.PutUint64(e[16:], uint64(base+int64(len(out))))
		out = append(out, make([]byte, space)...)
		copy(out[len(out)-space:], data)
		slot++
	}
	return out
}
