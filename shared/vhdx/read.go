package vhdx

// readAt reads the virtual range [off, off+len(p)) of this layer, which the
// caller has clamped to the virtual size.
func (l *layer) readAt(p []byte, off int64) error {
	bs := l.geo.blockSize
	for len(p) > 0 {
		blk, in := off/bs, off%bs
		n := min(int64(len(p)), bs-in)
		if err := l.readBlock(p[:n], off, blk, in); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// readBlock reads a range that lies inside payload block blk.
func (l *layer) readBlock(p []byte, off, blk, in int64) error {
	i := l.geo.payloadIndex(blk)
	e, err := l.batEntry(i)
	if err != nil {
		return err
	}
	switch st := entryState(e); st {
	case stFull:
		if err := l.checkBlock(e, i, l.geo.blockSize); err != nil {
			return err
		}
		_, err := l.src.ReadAt(p, entryOffset(e)+in)
		return err
	case stPartial:
		if !l.geo.diff || l.parent == nil {
			return errf(ErrCorrupt, "BAT: entry %d: partially present block in a disk without a parent", i)
		}
		return l.readPartial(p, off, e, i)
	case stNotPresent:
		if l.parent != nil {
			return l.parent.readAt(p, off)
		}
		clear(p)
	case stUndefined, stZero, stUnmapped, stUnmappedOld:
		clear(p)
	default:
		return errf(ErrCorrupt, "BAT: entry %d: state %d invalid", i, st)
	}
	return nil
}

// checkBlock re-checks at read time that a block lies inside the file.
func (l *layer) checkBlock(e uint64, i, n int64) error {
	off := entryOffset(e)
	if off < headerSection || off+n > l.src.size() {
		return errf(ErrCorrupt, "BAT: entry %d: block [0x%x, +0x%x) outside the file", i, off, n)
	}
	return nil
}

// readPartial reads a range of a PARTIALLY_PRESENT block sector by sector
// runs: set bitmap bits from this file, clear bits from the parent.
func (l *layer) readPartial(p []byte, off int64, e uint64, i int64) error {
	ss := l.geo.sector
	s0 := off / ss
	bits, err := l.sectorBits(s0, (off+int64(len(p))+ss-1)/ss)
	if err != nil {
		return err
	}
	base := entryOffset(e) + (off % l.geo.blockSize) - off // file offset = base + virtual offset
	if err := l.checkBlock(e, i, l.geo.blockSize); err != nil {
		return err
	}
	return eachRun(bits, s0, func(r0, r1 int64, set bool) error {
		lo, hi := max(r0*ss, off), min(r1*ss, off+int64(len(p)))
		if lo >= hi {
			return nil
		}
		q := p[lo-off : hi-off]
		if set {
			_, err := l.src.ReadAt(q, base+lo)
			return err
		}
		return l.parent.readAt(q, lo)
	})
}

// sectorBits returns the sector bitmap bits of virtual sectors [s0, s1),
// which lie in one chunk, as a byte slice whose bit 0 is sector s0&^7.
func (l *layer) sectorBits(s0, s1 int64) ([]byte, error) {
	chunk := s0 >> 23
	i := l.geo.sbIndex(chunk)
	e, err := l.batEntry(i)
	if err != nil {
		return nil, err
	}
	if entryState(e) != sbPresent {
		return nil, errf(ErrCorrupt, "BAT: entry %d: sector bitmap not present for a partially present block", i)
	}
	if err := l.checkBlock(e, i, sbBlockSize); err != nil {
		return nil, err
	}
	b0, b1 := l.geo.sbByteOffset(s0), l.geo.sbByteOffset(s1-1)+1
	return l.src.readN(entryOffset(e)+b0, b1-b0)
}

// fill is the bitmap byte whose eight bits all equal v.
func fill(v bool) byte {
	if v {
		return 0xff
	}
	return 0
}

// eachRun calls fn for maximal runs of equal bits among sectors
// [s0, s0+...) where bits' bit 0 is sector s0&^7; runs end at the bitmap end.
func eachRun(bits []byte, s0 int64, fn func(r0, r1 int64, set bool) error) error {
	first := s0 &^ 7
	end := first + int64(len(bits))*8
	bit := func(s int64) bool { k := s - first; return bits[k/8]&(1<<(k%8)) != 0 }
	for s := s0; s < end; {
		v, r := bit(s), s+1
		for r < end && bit(r) == v {
			r++
			for r%8 == 0 && r+8 <= end && bits[(r-first)/8] == fill(v) {
				r += 8
			}
		}
		if err := fn(s, r, v); err != nil {
			return err
		}
		s = r
	}
	return nil
}
