package vhdx

// batChunkEntries is how many BAT entries are read per streamed chunk.
const batChunkEntries = 8192

// walkBAT calls fn for BAT entries [from, to), reading the BAT in chunks.
func (l *layer) walkBAT(from, to int64, fn func(i int64, e uint64) error) error {
	buf := make([]byte, min(to-from, batChunkEntries)*8)
	for i := from; i < to; {
		n := min(to-i, batChunkEntries)
		b := buf[:n*8]
		if _, err := l.src.ReadAt(b, l.bat.off+i*8); err != nil {
			return err
		}
		for k := range n {
			if err := fn(i+k, u64(b[k*8:])); err != nil {
				return err
			}
		}
		i += n
	}
	return nil
}

// batEntry reads one BAT entry.
func (l *layer) batEntry(i int64) (uint64, error) {
	var b [8]byte
	if _, err := l.src.ReadAt(b[:], l.bat.off+i*8); err != nil {
		return 0, err
	}
	return u64(b[:]), nil
}

// blockChecker tracks the file space taken by blocks during a BAT scan.
type blockChecker struct {
	l        *layer
	fixed    []span           // header section, log, regions
	used     map[int64]uint64 // bit per 1 MiB unit of the file, 64 per word
	partial  bool             // a PARTIALLY_PRESENT block in the current chunk
	fileSize int64
}

// checkBAT validates every BAT entry (section 3, items 9 and 10) in one
// streamed pass; memory grows with the allocated blocks only.
func (l *layer) checkBAT() error {
	c := &blockChecker{l: l, used: map[int64]uint64{}, fileSize: l.src.size(),
		fixed: []span{{0, headerSection, "header section"}, l.log, {l.bat.off, l.bat.length, "BAT region"},
			{l.meta.off, l.meta.length, "metadata region"}}}
	return l.walkBAT(0, l.geo.entries, c.entry)
}

// entry checks BAT entry i.
func (c *blockChecker) entry(i int64, e uint64) error {
	g := c.l.geo
	if g.isSBIndex(i) {
		return c.sbEntry(i, e)
	}
	b := g.blockOf(i)
	if b >= g.blocks {
		return nil // padding entries of the last chunk of a differencing disk
	}
	st := entryState(e)
	if !g.payloadStateValid(st) {
		return errf(ErrCorrupt, "BAT: entry %d (block %d): state %d invalid", i, b, st)
	}
	if st == stPartial {
		c.partial = true
	}
	if st != stFull && st != stPartial {
		return nil
	}
	return c.take(entryOffset(e), g.blockSize, sprintf("BAT: entry %d (block %d)", i, b))
}

// sbEntry checks the sector bitmap entry at index i, closing its chunk.
func (c *blockChecker) sbEntry(i int64, e uint64) error {
	partial := c.partial
	c.partial = false
	st := entryState(e)
	if !c.l.geo.diff {
		return nil // must be NOT_PRESENT; tolerated (old qemu left junk)
	}
	switch {
	case st == sbPresent:
		return c.take(entryOffset(e), sbBlockSize, sprintf("BAT: entry %d (sector bitmap)", i))
	case st != stNotPresent:
		return errf(ErrCorrupt, "BAT: entry %d (sector bitmap): state %d invalid", i, st)
	case partial:
		return errf(ErrCorrupt, "BAT: entry %d (sector bitmap): not present but its chunk has partially present blocks", i)
	}
	return nil
}

// take checks that [off, off+n) is inside the file and free, and marks it.
func (c *blockChecker) take(off, n int64, what string) error {
	if off < headerSection || off+n > c.fileSize {
		return errf(ErrCorrupt, "%s: block [0x%x, +0x%x) outside the file (size 0x%x)", what, off, n, c.fileSize)
	}
	for _, s := range c.fixed {
		if off < s.off+s.n && s.off < off+n {
			return errf(ErrCorrupt, "%s: block [0x%x, +0x%x) overlaps the %s", what, off, n, s.what)
		}
	}
	for u := off / miB; u < (off+n)/miB; u++ {
		w, bit := u/64, uint64(1)<<(u%64)
		if c.used[w]&bit != 0 {
			return errf(ErrCorrupt, "%s: block [0x%x, +0x%x) overlaps another block", what, off, n)
		}
		c.used[w] |= bit
	}
	return nil
}
