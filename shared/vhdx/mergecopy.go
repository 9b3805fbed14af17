package vhdx

// mergeChunk bounds the buffer used to copy data during a merge.
const mergeChunk = 4 * miB

// copyOwn writes every range that layer l itself defines (data and zero
// states, not NOT_PRESENT) into pw at the same virtual offsets.
func copyOwn(l *layer, pw *Writer) error {
	g := l.geo
	buf := make([]byte, min(g.blockSize, mergeChunk))
	return l.walkBAT(0, g.entries, func(i int64, e uint64) error {
		if g.isSBIndex(i) || g.blockOf(i) >= g.blocks {
			return nil
		}
		lo := g.blockOf(i) * g.blockSize
		hi := min(lo+g.blockSize, g.size)
		switch entryState(e) {
		case stFull:
			return copyRange(l, pw, buf, lo, hi, entryOffset(e)-lo)
		case stPartial:
			return copyPartial(l, pw, buf, lo, hi, entryOffset(e)-lo)
		case stUndefined, stZero, stUnmapped, stUnmappedOld:
			return pw.zeroRange(lo, hi)
		}
		return nil
	})
}

// copyPartial copies the sectors whose bitmap bits are set.
func copyPartial(l *layer, pw *Writer, buf []byte, lo, hi, base int64) error {
	ss := l.geo.sector
	bits, err := l.sectorBits(lo/ss, hi/ss)
	if err != nil {
		return err
	}
	return eachRun(bits, lo/ss, func(r0, r1 int64, set bool) error {
		if !set {
			return nil
		}
		return copyRange(l, pw, buf, max(r0*ss, lo), min(r1*ss, hi), base)
	})
}

// copyRange copies virtual [lo, hi) from file offset lo+base of l to pw.
func copyRange(l *layer, pw *Writer, buf []byte, lo, hi, base int64) error {
	for off := lo; off < hi; {
		n := min(hi-off, int64(len(buf)))
		if _, err := l.src.ReadAt(buf[:n], off+base); err != nil {
			return withPath(l.path, err)
		}
		if _, err := pw.WriteAt(buf[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// zeroRange makes [lo, hi) read as zeros: whole blocks become
// PAYLOAD_BLOCK_ZERO (their old space is left unused), other sectors are
// written with zeros.
func (w *Writer) zeroRange(lo, hi int64) error {
	g := w.l.geo
	if lo%g.blockSize != 0 || (hi-lo != g.blockSize && hi != g.size) {
		_, err := w.WriteAt(make([]byte, hi-lo), lo)
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.touch(); err != nil {
		return err
	}
	i := g.payloadIndex(lo / g.blockSize)
	if entryState(w.entry(i)) == stZero {
		return nil
	}
	ch := changes{}
	w.setEntry(i, makeEntry(stZero, 0), ch)
	return withPath(w.l.path, w.commit(ch))
}
