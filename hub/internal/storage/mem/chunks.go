package mem

import "hvmigrate/hub/internal/storage"

// chunkSize is the unit of copy-on-write sharing between a blob and its
// snapshots.
const chunkSize = 64 << 10

// chunkPages is the number of pages in a chunk.
const chunkPages = chunkSize / storage.PageSize

// chunk is one piece of a blob; it is never changed once stored, so
// snapshots share chunks with their blob. A nil chunk reads as zeros and
// has no valid page.
type chunk struct {
	data  [chunkSize]byte
	valid [chunkPages / 64]uint64 // one bit a page: written and not cleared since
}

// setValid marks the pages of [in, in+k) (chunk offsets) written, or
// cleared when on is false; a partial page counts as written.
func (c *chunk) setValid(in, k int64, on bool) {
	for p := in / storage.PageSize; p*storage.PageSize < in+k; p++ {
		if on {
			c.valid[p/64] |= 1 << (p % 64)
		} else {
			c.valid[p/64] &^= 1 << (p % 64)
		}
	}
}

// isValid reports whether page p of the chunk is valid.
func (c *chunk) isValid(p int64) bool { return c.valid[p/64]&(1<<(p%64)) != 0 }

// pages is a blob's contents.
type pages struct {
	size   int64
	chunks []*chunk
}

// newPages returns size zero bytes.
func newPages(size int64) *pages {
	return &pages{size: size, chunks: make([]*chunk, (size+chunkSize-1)/chunkSize)}
}

// clone returns a copy that shares every chunk.
func (p *pages) clone() *pages {
	return &pages{size: p.size, chunks: append([]*chunk(nil), p.chunks...)}
}

// write copies data to off, replacing each touched chunk; data == nil
// zeroes the range instead (Clear Pages: the pages stop being valid). The
// range must be inside the size.
func (p *pages) write(off int64, data []byte, n int64) {
	put := data != nil
	for n > 0 {
		i, in := off/chunkSize, off%chunkSize
		k := min(n, chunkSize-in)
		old := p.chunks[i]
		if !put && (old == nil || in == 0 && k == chunkSize) {
			p.chunks[i] = nil
		} else {
			c := new(chunk)
			if old != nil {
				*c = *old
			}
			if !put {
				clear(c.data[in : in+k])
			} else {
				copy(c.data[in:in+k], data[:k])
				data = data[k:]
			}
			c.setValid(in, k, put)
			p.chunks[i] = c
		}
		off, n = off+k, n-k
	}
}

// read copies up to len(dst) bytes from off and returns the count.
func (p *pages) read(dst []byte, off int64) int {
	if off >= p.size {
		return 0
	}
	dst = dst[:min(int64(len(dst)), p.size-off)]
	done := 0
	for done < len(dst) {
		i, in := off/chunkSize, off%chunkSize
		k := min(int64(len(dst)-done), chunkSize-in)
		if c := p.chunks[i]; c != nil {
			copy(dst[done:], c.data[in:in+k])
		} else {
			clear(dst[done : done+int(k)])
		}
		done, off = done+int(k), off+k
	}
	return done
}

// ranges lists the valid pages of [off, end) (page aligned) as at most
// limit merged ranges, and the offset up to which the listing is complete.
func (p *pages) ranges(off, end int64, limit int) ([]storage.Range, int64) {
	var out []storage.Range
	for at := off; at < end; at += storage.PageSize {
		c := p.chunks[at/chunkSize]
		if c == nil {
			at = (at/chunkSize+1)*chunkSize - storage.PageSize // skip the chunk
			continue
		}
		if !c.isValid(at % chunkSize / storage.PageSize) {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].End() == at {
			out[k].N += storage.PageSize
			continue
		}
		if len(out) == limit {
			return out, out[limit-1].End()
		}
		out = append(out, storage.Range{Off: at, N: storage.PageSize})
	}
	return out, end
}

// bytes returns the whole contents.
func (p *pages) bytes() []byte {
	b := make([]byte, p.size)
	p.read(b, 0)
	return b
}
