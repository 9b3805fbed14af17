package vhdx

import (
	"io"
	"testing"

	"hvmigrate/shared/vdisk"
)

// memFile is a sparse in-memory file: zeros except for its pieces.
type memFile struct {
	size   int64
	pieces []piece
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= m.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), m.size-off)
	clear(p[:n])
	for _, pc := range m.pieces {
		lo, hi := max(off, pc.off), min(off+n, pc.off+int64(len(pc.b)))
		if lo < hi {
			copy(p[lo-off:hi-off], pc.b[lo-pc.off:hi-pc.off])
		}
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// fuzzTemplate is a valid 8 MiB dynamic VHDX with 1 MiB blocks, two
// allocated blocks (one partially present when diff is set) and a live log
// entry, as a memFile.
func fuzzTemplate(diff bool) *memFile {
	p := params{blockSize: miB, size: 8 * miB, logical: 512, physical: 4096, hasParent: diff,
		diskID: mustGUID("01234567-89ab-4def-8123-456789abcdef")}
	if diff {
		p.locator = encodeLocator([][2]string{{keyLinkage, "{11111111-2222-4333-8444-555555555555}"}, {keyRelative, `..\base.vhdx`}})
	}
	g := newGeometry(p)
	lo := newLayout(g, miB)
	h := header{seq: 1, version: 1, logLength: uint32(miB), logOffset: uint64(lo.logOff),
		logGUID: mustGUID("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")}
	bat := make([]byte, g.entries*8)
	put64(bat[g.payloadIndex(1)*8:], makeEntry(stFull, lo.dataOff))
	st2 := stFull
	if diff {
		st2 = stPartial
		put64(bat[g.sbIndex(0)*8:], makeEntry(sbPresent, lo.dataOff+2*miB))
	}
	put64(bat[g.payloadIndex(5)*8:], makeEntry(st2, lo.dataOff+miB))
	put64(bat[g.payloadIndex(6)*8:], makeEntry(stZero, 0))
	ps := skeleton(lo, h, p, bat)
	sec := make([]byte, logSector)
	for i := range sec {
		sec[i] = byte(i * 7)
	}
	entry := encodeLogEntry(h.logGUID, 3, []int64{lo.dataOff}, map[int64][]byte{lo.dataOff: sec}, lo.dataOff+3*miB, lo.dataOff+3*miB)
	sb := []byte{0xf0, 0x0f, 0xff}
	ps = append(ps, piece{lo.logOff, entry}, piece{lo.dataOff + miB, []byte{1, 2, 3, 4}},
		piece{lo.dataOff + 2*miB + g.sbByteOffset(5*miB/512), sb})
	return &memFile{size: lo.dataOff + 3*miB, pieces: ps}
}

// fuzzAreas are the template areas a FuzzOpen input overwrites, in order.
func fuzzAreas() []piece {
	return []piece{
		{header1Off, make([]byte, 128)}, {header2Off, make([]byte, 128)},
		{region1Off, make([]byte, 96)}, {region2Off, make([]byte, 96)},
		{2 * miB, make([]byte, 256)}, {2*miB + 64*kiB, make([]byte, 256)},
		{3 * miB, make([]byte, 128)}, {miB, make([]byte, 256)}, {miB + 4*kiB, make([]byte, 64)},
	}
}

// mutated applies a fuzz input to the template: byte 0 selects the
// differencing template and CRC repair; the rest overwrites the areas.
func mutated(data []byte) *memFile {
	if len(data) == 0 {
		return fuzzTemplate(false)
	}
	m := fuzzTemplate(data[0]&1 != 0)
	base := &memFile{size: m.size, pieces: m.pieces}
	rest := data[1:]
	for _, a := range fuzzAreas() {
		if len(rest) == 0 {
			break
		}
		n := min(len(a.b), len(rest))
		b := make([]byte, len(a.b))
		base.ReadAt(b, a.off)
		copy(b, rest[:n])
		rest = rest[n:]
		m.pieces = append(m.pieces, piece{a.off, b})
	}
	if data[0]&2 != 0 {
		fixCRCs(m)
	}
	return m
}

// fixCRCs recomputes header, region table and log entry checksums so that
// mutations reach the deeper checks.
func fixCRCs(m *memFile) {
	for _, s := range []struct{ off, n int64 }{{header1Off, headerSize}, {header2Off, headerSize},
		{region1Off, regionSize}, {region2Off, regionSize}, {miB, 2 * logSector}} {
		b := make([]byte, s.n)
		m.ReadAt(b, s.off)
		putCRC(b, 4)
		m.pieces = append(m.pieces, piece{s.off, b})
	}
}

// exercise reads what a layer offers (the first 16 MiB and the last
// 3 MiB of large disks); it must never panic or hang.
func exercise(l *layer) {
	buf := make([]byte, 3*miB/2)
	for _, r := range [][2]int64{{0, min(l.p.size, 16*miB)}, {max(0, l.p.size-3*miB), l.p.size}} {
		for off := r[0]; off < r[1]; off += int64(len(buf)) {
			n := min(int64(len(buf)), r[1]-off)
			if l.readAt(buf[:n], off) != nil {
				break
			}
		}
	}
	for _, err := range layerExtents(l) {
		if err != nil {
			break
		}
	}
	_ = l.describe()
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1})
	f.Add([]byte{2, 'h', 'e', 'a', 'd'})
	f.Add(append([]byte{3}, make([]byte, 300)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		m := mutated(data)
		l, err := loadLayer("fuzz.vhdx", m, m.size)
		if err != nil {
			return
		}
		exercise(l)
	})
}

func TestFuzzTemplate_isValid(t *testing.T) {
	for _, diff := range []bool{false, true} {
		m := mutated([]byte{map[bool]byte{false: 2, true: 3}[diff]})
		l, err := loadLayer("t.vhdx", m, m.size)
		if err != nil {
			t.Fatalf("diff=%v: %v", diff, err)
		}
		if l.src.ov == nil {
			t.Fatalf("diff=%v: log not replayed", diff)
		}
		buf := make([]byte, 8)
		if err := l.readAt(buf, miB); err != nil || buf[1] != 7 {
			t.Fatalf("diff=%v: replayed sector not visible: %v %v", diff, buf, err)
		}
	}
}

func FuzzHeader(f *testing.F) {
	h := header{seq: 5, version: 1, logLength: uint32(miB), logOffset: uint64(miB)}
	f.Add(h.encode(), h.encode())
	f.Fuzz(func(t *testing.T, a, b []byte) {
		a, b = pad(a, headerSize), pad(b, headerSize)
		if h, _, err := pickHeader(a, b); err == nil {
			if h2, err := parseHeader(h.encode()); err != nil || h2 != h {
				t.Fatalf("round trip: %v %+v %+v", err, h, h2)
			}
			_ = h.checkLogPlacement(16 * miB)
		}
	})
}

func FuzzRegionTable(f *testing.F) {
	f.Add(newLayout(newGeometry(params{blockSize: miB, size: 8 * miB, logical: 512}), miB).regionTable()[:128], true)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		b := pad(data, regionSize)
		if fix {
			putCRC(b, 4)
		}
		if rs, err := parseRegionTable(b); err == nil {
			_, _, _ = placeRegions(rs, 64*miB, span{miB, miB, "log"})
		}
	})
}

func FuzzMetadataTable(f *testing.F) {
	p := params{blockSize: miB, size: 8 * miB, logical: 512, physical: 512, hasParent: true,
		locator: encodeLocator([][2]string{{keyLinkage, "{11111111-2222-4333-8444-555555555555}"}, {keyAbsolute, `C:\a.vhdx`}})}
	f.Add(metadataRegion(p))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > int(2*miB) {
			return
		}
		b := pad(data, metadataTableSize)
		es, err := parseMetadataTable(b, miB)
		if err != nil {
			return
		}
		p, err := readParams(es, func(off, n int64) ([]byte, error) { return pad(nil, n), nil })
		_ = p
		_ = err
		region := pad(b, miB)
		if p, err := readParams(es, func(off, n int64) ([]byte, error) { return region[off : off+n], nil }); err == nil && p.hasParent {
			_, _ = parseLocator(p.locator)
		}
	})
}

func FuzzLogEntry(f *testing.F) {
	m := fuzzTemplate(false)
	log := make([]byte, 16*logSector)
	m.ReadAt(log, miB)
	guid := mustGUID("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
	f.Add(log[:2*logSector], true)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		if len(data) > int(64*logSector) {
			return
		}
		b := pad(data, alignUp(int64(len(data))+1, logSector))
		if fix {
			if n := int64(u32(b[8:])); n >= 64 && n <= int64(len(b)) {
				putCRC(b[:n], 4)
			}
		}
		seq, err := activeSequence(b, guid)
		if err == nil && seq != nil {
			if ov, err := buildOverlay(seq, 64*miB, span{miB, int64(len(b)), "log"}); err == nil {
				p := make([]byte, 3*logSector)
				ov.patch(p, 2*miB-100)
			}
		}
	})
}

func FuzzParentLocator(f *testing.F) {
	f.Add(encodeLocator([][2]string{{keyLinkage, "{11111111-2222-4333-8444-555555555555}"}, {keyRelative, `..\x\p.vhdx`}, {keyVolume, `\\?\Volume{1}\p.vhdx`}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseLocator(data)
		if err != nil {
			return
		}
		_ = l.linkages()
		c := &layer{path: "/x/c.avhdx", loc: l}
		_ = parentCandidates(c)
	})
}

func FuzzBAT(f *testing.F) {
	m := fuzzTemplate(true)
	bat := make([]byte, 64)
	m.ReadAt(bat, 3*miB)
	f.Add(bat, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, shape uint8) {
		m := fuzzTemplate(shape&1 != 0)
		m.pieces = append(m.pieces, piece{3 * miB, data[:min(len(data), 4096)]})
		l, err := loadLayer("bat.vhdx", m, m.size)
		if err != nil {
			return
		}
		exercise(l)
	})
}

// pad returns b copied into n bytes (truncated or zero-extended).
func pad(b []byte, n int64) []byte {
	out := make([]byte, n)
	copy(out, b)
	return out
}

var _ vdisk.Image = (*Disk)(nil)
