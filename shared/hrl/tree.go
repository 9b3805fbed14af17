package hrl

import (
	"math"
	"slices"
	"sort"
)

// extentTree holds non-overlapping disk extents sorted by disk offset in a
// list of sorted chunks (a two-level B-tree): finding a position costs two
// binary searches, inserting moves at most one chunk. An extent costs 24
// bytes, chunks are between half and fully used, and the structure holds
// one pointer per chunk, so memory per extent stays under 50 bytes.
type extentTree struct {
	chunks   [][]node
	count    int
	chunkCap int // even, at least 2
}

// node is one extent: n bytes at disk offset off, stored at file offset
// foff of log file.
type node struct {
	off  int64
	foff int64
	n    uint32
	file uint32
}

func (x node) end() int64 { return x.off + int64(x.n) }

// defaultChunkCap is the most extents a chunk holds; full chunks split in
// two.
const defaultChunkCap = 256

func newExtentTree() extentTree { return newExtentTreeCap(defaultChunkCap) }

// newExtentTreeCap lets tests use tiny chunks to exercise splits.
func newExtentTreeCap(chunkCap int) extentTree { return extentTree{chunkCap: max(2, chunkCap&^1)} }

// pos addresses an extent: chunk c, index i (i may equal the chunk length
// to mean "after the chunk's last extent").
type pos struct{ c, i int }

// find returns the position of the first extent that ends after off.
func (t *extentTree) find(off int64) pos {
	c := sort.Search(len(t.chunks), func(c int) bool {
		ch := t.chunks[c]
		return ch[len(ch)-1].end() > off
	})
	if c == len(t.chunks) {
		return t.endPos()
	}
	ch := t.chunks[c]
	return pos{c, sort.Search(len(ch), func(i int) bool { return ch[i].end() > off })}
}

// endPos is the position after the last extent.
func (t *extentTree) endPos() pos {
	if len(t.chunks) == 0 {
		return pos{0, 0}
	}
	return pos{len(t.chunks) - 1, len(t.chunks[len(t.chunks)-1])}
}

// at returns the extent at p, if p addresses one.
func (t *extentTree) at(p pos) (*node, bool) {
	if p.c >= len(t.chunks) || p.i >= len(t.chunks[p.c]) {
		return nil, false
	}
	return &t.chunks[p.c][p.i], true
}

// insert makes [off, off+n) map to (file, foff), replacing whatever older
// extents covered any of those bytes: older extents are trimmed, split or
// removed byte for byte. A new extent that continues a neighbour on disk
// and in the same file is merged into it.
func (t *extentTree) insert(off int64, n uint32, file uint32, foff int64) {
	if n == 0 {
		return
	}
	end := off + int64(n)
	p := t.find(off)
	if x, ok := t.at(p); ok && x.off < off {
		head := *x
		head.n = uint32(off - x.off)
		if x.end() <= end {
			*x = head
			p.i++
		} else {
			tail := cut(*x, end)
			*x = head
			p = t.insertAt(pos{p.c, p.i + 1}, tail) // the new extent goes before tail
		}
	}
	p = t.removeCovered(p, end)
	if x, ok := t.at(p); ok && x.off < end {
		*x = cut(*x, end)
	}
	t.place(p, node{off: off, foff: foff, n: n, file: file})
}

// cut returns the part of x from disk offset at (inside x) to its end.
func cut(x node, at int64) node {
	d := at - x.off
	return node{off: at, foff: x.foff + d, n: x.n - uint32(d), file: x.file}
}

// removeCovered deletes the extents from p on that end at or before end
// and returns the position that follows them.
func (t *extentTree) removeCovered(p pos, end int64) pos {
	for {
		p = t.normalize(p)
		ch, ok := t.chunkAt(p)
		if !ok {
			return p
		}
		j := p.i
		for j < len(ch) && ch[j].end() <= end {
			j++
		}
		if j == p.i {
			return p
		}
		t.chunks[p.c] = slices.Delete(ch, p.i, j)
		t.count -= j - p.i
		if len(t.chunks[p.c]) == 0 {
			t.chunks = slices.Delete(t.chunks, p.c, p.c+1)
			p = pos{p.c, 0}
		}
	}
}

// normalize moves a position past the end of a chunk to the start of the
// next chunk, when there is one.
func (t *extentTree) normalize(p pos) pos {
	if p.c < len(t.chunks)-1 && p.i >= len(t.chunks[p.c]) {
		return pos{p.c + 1, 0}
	}
	return p
}

func (t *extentTree) chunkAt(p pos) ([]node, bool) {
	if p.c >= len(t.chunks) || p.i >= len(t.chunks[p.c]) {
		return nil, false
	}
	return t.chunks[p.c], true
}

// prev returns the extent just before p.
func (t *extentTree) prev(p pos) (*node, bool) {
	if p.i > 0 && p.c < len(t.chunks) {
		return &t.chunks[p.c][p.i-1], true
	}
	if p.c > 0 && p.c <= len(t.chunks) {
		ch := t.chunks[p.c-1]
		return &ch[len(ch)-1], true
	}
	return nil, false
}

// continues reports whether b directly follows a on disk and in the file.
func continues(a, b node) bool {
	return a.file == b.file && a.end() == b.off && a.foff+int64(a.n) == b.foff &&
		uint64(a.n)+uint64(b.n) <= math.MaxUint32
}

// place puts x at p, where no extent overlaps it, merging with neighbours.
func (t *extentTree) place(p pos, x node) {
	next, hasNext := t.at(t.normalize(p))
	if before, ok := t.prev(p); ok && continues(*before, x) {
		before.n += x.n
		if hasNext && continues(*before, *next) {
			before.n += next.n
			t.removeAt(t.normalize(p))
		}
		return
	}
	if hasNext && continues(x, *next) {
		x.n += next.n
		*next = x
		return
	}
	t.insertAt(p, x)
}

func (t *extentTree) removeAt(p pos) {
	t.chunks[p.c] = slices.Delete(t.chunks[p.c], p.i, p.i+1)
	t.count--
	if len(t.chunks[p.c]) == 0 {
		t.chunks = slices.Delete(t.chunks, p.c, p.c+1)
	}
}

// insertAt inserts x at p, splitting a full chunk, and returns where x
// ended up.
func (t *extentTree) insertAt(p pos, x node) pos {
	t.count++
	if len(t.chunks) == 0 {
		t.chunks = append(t.chunks, append(make([]node, 0, t.chunkCap), x))
		return pos{0, 0}
	}
	if p.c == len(t.chunks) {
		p = t.endPos()
	}
	ch, h := t.chunks[p.c], t.chunkCap/2
	if len(ch) == t.chunkCap {
		half := make([]node, h, t.chunkCap)
		copy(half, ch[h:])
		t.chunks[p.c] = ch[:h]
		t.chunks = slices.Insert(t.chunks, p.c+1, half)
		if p.i > h {
			p = pos{p.c + 1, p.i - h}
		}
		ch = t.chunks[p.c]
	}
	t.chunks[p.c] = slices.Insert(ch, p.i, x)
	return p
}

// walk calls fn for every extent in disk order until fn returns false.
func (t *extentTree) walk(fn func(node) bool) {
	for _, ch := range t.chunks {
		for _, x := range ch {
			if !fn(x) {
				return
			}
		}
	}
}
