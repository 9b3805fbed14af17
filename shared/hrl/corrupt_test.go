package hrl

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

const corruptDisk = 1 << 20

// corruptBase is a valid log of 20 writes in 4-entry blocks after a leading
// empty block, with its block offsets.
func corruptBase(t *testing.T) (*memFile, []Block) {
	t.Helper()
	ws := randomWrites(rand.New(rand.NewPCG(7, 7)), 20, corruptDisk)
	ws[3].data = ws[2].data[:len(ws[2].data)-512] // entries 2 and 3 differ in data
	opts := testWriterOptions(4)
	opts.DataWriteGUID = GUID{1, 2, 3}
	f := writeLog(t, ws, opts, 0)
	return f, openMem(t, f, Options{DiskSize: corruptDisk}).Blocks()
}

func (m *memFile) clone() *memFile { return &memFile{b: append([]byte(nil), m.b...)} }

func patchHeader(b []byte, fn func(h []byte)) {
	fn(b[:HeaderSize])
	binary.LittleEndian.PutUint32(b[offHeaderChecksum:], Checksum(b[:HeaderSize], offHeaderChecksum))
}

func patchMD(b []byte, off int64, fn func(m []byte)) {
	m := b[off : off+MetadataHeaderSize]
	fn(m)
	binary.LittleEndian.PutUint32(m[offMDChecksum:], Checksum(m, offMDChecksum))
}

func patchEntry(b []byte, blk Block, slot int, fn func(e []byte)) {
	off := blk.Offset + MetadataHeaderSize + int64(slot)*EntrySize
	e := b[off : off+EntrySize]
	fn(e)
	binary.LittleEndian.PutUint32(e[offEChecksum:], Checksum(e, offEChecksum))
}

type corruption struct {
	name   string
	mutate func(b []byte, blocks []Block) []byte
	opts   Options
	verify bool // the error appears only when the data is read
	want   error
}

func headerCorruptions() []corruption {
	le := binary.LittleEndian
	hdr := func(fn func(h []byte)) func([]byte, []Block) []byte {
		return func(b []byte, _ []Block) []byte { patchHeader(b, fn); return b }
	}
	return []corruption{
		{name: "empty file", mutate: func(b []byte, _ []Block) []byte { return b[:0] }, want: ErrTruncated},
		{name: "truncated header", mutate: func(b []byte, _ []Block) []byte { return b[:HeaderSize-1] }, want: ErrTruncated},
		{name: "truncated before EOL", mutate: func(b []byte, _ []Block) []byte { return b[:len(b)-100] }, want: ErrTruncated},
		{name: "cookie bit flip", mutate: func(b []byte, _ []Block) []byte { b[2] ^= 1; return b }, want: ErrNotHRL},
		{name: "cookie byte 7", mutate: hdr(func(h []byte) { h[7] = 'x' }), want: ErrNotHRL},
		{name: "header bit flip", mutate: func(b []byte, _ []Block) []byte { b[2000] ^= 0x10; return b }, want: ErrChecksum},
		{name: "header checksum flip", mutate: func(b []byte, _ []Block) []byte { b[offHeaderChecksum] ^= 1; return b }, want: ErrChecksum},
		{name: "minor version", mutate: hdr(func(h []byte) { le.PutUint32(h[offVersion:], 0x00020001) }), want: ErrUnsupportedVersion},
		{name: "big-endian version", mutate: hdr(func(h []byte) { le.PutUint32(h[offVersion:], 0x00000200) }), want: ErrUnsupportedVersion},
		{name: "file type", mutate: hdr(func(h []byte) { le.PutUint32(h[offFileType:], 1) }), want: ErrNotHRL},
		{name: "flags", mutate: hdr(func(h []byte) { h[offFlags+1] = 1 }), want: ErrFlags},
		{name: "not closed", mutate: hdr(func(h []byte) { le.PutUint64(h[offEOL:], 0) }), want: ErrNotClosed},
		{name: "metadata size not multiple of 32", mutate: hdr(func(h []byte) { le.PutUint32(h[offMetadataSize:], 4100) }), want: ErrMetadataSize},
		{name: "metadata size too small", mutate: hdr(func(h []byte) { le.PutUint32(h[offMetadataSize:], 32) }), want: ErrMetadataSize},
		{name: "metadata size huge", mutate: hdr(func(h []byte) { le.PutUint32(h[offMetadataSize:], 1<<30) }), want: ErrMetadataSize},
		{name: "EOL below one block", mutate: hdr(func(h []byte) { le.PutUint64(h[offEOL:], HeaderSize+100) }), want: ErrBadEOL},
		{name: "EOL past file", mutate: hdr(func(h []byte) { le.PutUint64(h[offEOL:], 1<<40) }), want: ErrTruncated},
		{name: "error code", mutate: hdr(func(h []byte) { le.PutUint32(h[offErrorCode:], 5) }), want: ErrErrorCode},
		{name: "data write guid", mutate: func(b []byte, _ []Block) []byte { return b }, opts: Options{ExpectedDataWriteGUID: GUID{9}}, want: ErrDataWriteGUID},
		{name: "v1 has no data write guid", mutate: hdr(func(h []byte) { le.PutUint32(h[offVersion:], Version1) }), opts: Options{ExpectedDataWriteGUID: GUID{1, 2, 3}}, want: ErrDataWriteGUID},
	}
}

func blockCorruptions() []corruption {
	le := binary.LittleEndian
	last := func(bl []Block) Block { return bl[len(bl)-1] }
	md := func(pick func([]Block) Block, fn func(m []byte)) func([]byte, []Block) []byte {
		return func(b []byte, bl []Block) []byte { patchMD(b, pick(bl).Offset, fn); return b }
	}
	ent := func(slot int, fn func(e []byte)) func([]byte, []Block) []byte {
		return func(b []byte, bl []Block) []byte { patchEntry(b, bl[2], slot, fn); return b }
	}
	return []corruption{
		{name: "metadata header bit flip", mutate: func(b []byte, bl []Block) []byte { b[last(bl).Offset+9] ^= 4; return b }, want: ErrChecksum},
		{name: "previous location too short", mutate: md(last, func(m []byte) { le.PutUint64(m, 10) }), want: ErrBrokenChain},
		{name: "previous location past file start", mutate: md(last, func(m []byte) { le.PutUint64(m, 1<<40) }), want: ErrBrokenChain},
		{name: "previous location into header", mutate: func(b []byte, bl []Block) []byte {
			l := last(bl)
			patchMD(b, l.Offset, func(m []byte) { le.PutUint64(m, uint64(l.Offset-HeaderSize+512)) })
			return b
		}, want: ErrBrokenChain},
		{name: "previous location into data", mutate: md(last, func(m []byte) { le.PutUint64(m, le.Uint64(m)+512) }), want: ErrChecksum},
		{name: "too many entries", mutate: md(last, func(m []byte) { le.PutUint32(m[offMDValid:], 128) }), want: ErrTooManyEntries},
		{name: "one entry fewer", mutate: md(last, func(m []byte) { le.PutUint32(m[offMDValid:], le.Uint32(m[offMDValid:])-1) }), want: ErrNotContiguous},
		{name: "first block claims entries", mutate: md(func(bl []Block) Block { return bl[0] }, func(m []byte) { le.PutUint32(m[offMDValid:], 1) }), want: ErrChecksum},
		{name: "entry bit flip", mutate: func(b []byte, bl []Block) []byte { b[bl[2].Offset+MetadataHeaderSize+3] ^= 1; return b }, want: ErrChecksum},
		{name: "entry length changed", mutate: ent(1, func(e []byte) { le.PutUint32(e[offEDataLength:], le.Uint32(e[offEDataLength:])+512) }), want: ErrNotContiguous},
		{name: "entry operation", mutate: ent(0, func(e []byte) { e[offEOperation] = 2 }), want: ErrOperation},
		{name: "entry past disk end", mutate: ent(0, func(e []byte) { le.PutUint64(e, corruptDisk) }), want: ErrPastEnd},
		{name: "entry offset overflow", mutate: ent(0, func(e []byte) { le.PutUint64(e, 1<<64-512) }), want: ErrPastEnd},
		{name: "entry unaligned", mutate: ent(0, func(e []byte) { le.PutUint64(e, le.Uint64(e)+1) }), want: ErrUnaligned},
		{name: "entry data checksum", mutate: ent(0, func(e []byte) { e[offEDataChecksum] ^= 1 }), verify: true, want: ErrChecksum},
		{name: "data bit flip", mutate: func(b []byte, bl []Block) []byte { b[bl[2].DataStart+77] ^= 1; return b }, verify: true, want: ErrChecksum},
		{name: "entries reordered", mutate: swapSlots(2, 0, 1), verify: true, want: ErrChecksum},
		{name: "blocks reordered", mutate: swapLastBlocks, want: ErrChecksum},
		{name: "header moved", mutate: func(b []byte, _ []Block) []byte { return append(make([]byte, 512), b...) }, want: ErrNotHRL},
	}
}

// swapSlots swaps two entry slots of a block: each entry still checksums,
// the lengths still add up, only the data no longer matches.
func swapSlots(block, i, j int) func([]byte, []Block) []byte {
	return func(b []byte, bl []Block) []byte {
		base := bl[block].Offset + MetadataHeaderSize
		a := append([]byte(nil), b[base+int64(i)*EntrySize:][:EntrySize]...)
		copy(b[base+int64(i)*EntrySize:], b[base+int64(j)*EntrySize:][:EntrySize])
		copy(b[base+int64(j)*EntrySize:], a)
		return b
	}
}

// swapLastBlocks exchanges the two last metadata blocks in place.
func swapLastBlocks(b []byte, bl []Block) []byte {
	x, y := bl[len(bl)-2].Offset, bl[len(bl)-1].Offset
	a := append([]byte(nil), b[x:x+DefaultMetadataSize]...)
	copy(b[x:], b[y:y+DefaultMetadataSize])
	copy(b[y:], a)
	return b
}

func TestNewReader_corrupt_namedError(t *testing.T) {
	base, blocks := corruptBase(t)
	for _, tt := range append(headerCorruptions(), blockCorruptions()...) {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.mutate(base.clone().b, blocks)
			opts := tt.opts
			opts.Name = "corrupt.hrl"
			if opts.DiskSize == 0 {
				opts.DiskSize = corruptDisk
			}
			l, err := NewReader(&memFile{b: b}, int64(len(b)), opts)
			if tt.verify {
				if err != nil {
					t.Fatalf("NewReader: %v (want success until Verify)", err)
				}
				err = l.Verify()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), "corrupt.hrl") || !strings.Contains(err.Error(), "field ") {
				t.Errorf("message %q does not name the file and the field", err)
			}
		})
	}
}
