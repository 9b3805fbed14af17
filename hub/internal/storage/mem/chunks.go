package mem

// chunkSize is the unit of copy-on-write sharing between a blob and its
// snapshots.
const chunkSize = 64 << 10

// chunk is one piece of a blob; it is never changed once stored, so
// snapshots share chunks with their blob. A nil chunk reads as zeros.
type chunk = [chunkSize]byte

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
// zeroes the range instead. The range must be inside the size.
func (p *pages) write(off int64, data []byte, n int64) {
	for n > 0 {
		i, in := off/chunkSize, off%chunkSize
		k := min(n, chunkSize-in)
		old := p.chunks[i]
		if data == nil && in == 0 && k == chunkSize {
			p.chunks[i] = nil
		} else {
			c := new(chunk)
			if old != nil {
				*c = *old
			}
			if data == nil {
				clear(c[in : in+k])
			} else {
				copy(c[in:in+k], data[:k])
				data = data[k:]
			}
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
			copy(dst[done:], c[in:in+k])
		} else {
			clear(dst[done : done+int(k)])
		}
		done, off = done+int(k), off+k
	}
	return done
}

// bytes returns the whole contents.
func (p *pages) bytes() []byte {
	b := make([]byte, p.size)
	p.read(b, 0)
	return b
}
