package vhd

import (
	"errors"
	"fmt"
	"io"
)

// ReadAt reads the virtual disk at off. Reads that reach past Size return
// the bytes before Size and io.EOF, as os.File does. Sectors a differencing
// disk does not hold are read from its parent; sectors no layer holds read
// as zeros. Safe for concurrent use: every file access is a positioned read.
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("vhd: %s: read at negative offset %d", d.layers[0].path, off)
	}
	if off >= d.size {
		return 0, io.EOF
	}
	n := len(p)
	var eof error
	if int64(n) > d.size-off {
		n, eof = int(d.size-off), io.EOF
	}
	if err := d.read(0, p[:n], off); err != nil {
		return 0, err
	}
	return n, eof
}

// read fills p with the virtual bytes at off as seen from layer i down.
func (d *Disk) read(i int, p []byte, off int64) error {
	if i == len(d.layers) {
		clear(p)
		return nil
	}
	l := d.layers[i]
	if l.hdr == nil {
		return l.pread(p, off, "data")
	}
	for len(p) > 0 {
		blk, in := off/l.blockSize, off%l.blockSize
		n := min(int64(len(p)), l.blockSize-in)
		q := p[:n]
		err := l.walkBlock(blk, in, n, func(rin, rn, fileOff int64) error {
			r := q[rin-in : rin-in+rn]
			if fileOff < 0 {
				return d.read(i+1, r, blk*l.blockSize+rin)
			}
			return l.pread(r, fileOff, "data block")
		})
		if err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

// walkBlock splits the bytes [in, in+n) of block blk into runs that this
// layer holds (fileOff is where they are in the file) or does not hold
// (fileOff is -1), and calls fn for each run in order.
func (l *layer) walkBlock(blk, in, n int64, fn func(in, n, fileOff int64) error) error {
	e := l.bat[blk]
	if e == unallocated {
		return fn(in, n, -1)
	}
	base := int64(e) * 512
	k0, k1 := in/512, (in+n+511)/512
	b0 := k0 / 8
	var small [512]byte
	bm := small[:0]
	if size := (k1-1)/8 + 1 - b0; size <= int64(len(small)) {
		bm = small[:size]
	} else {
		bm = make([]byte, size)
	}
	if err := l.pread(bm, base+b0, fmt.Sprintf("sector bitmap of block %d", blk)); err != nil {
		return err
	}
	present := func(k int64) bool { return bm[k/8-b0]>>(7-k%8)&1 == 1 }
	for k := k0; k < k1; {
		j := k + 1
		for j < k1 && present(j) == present(k) {
			j++
		}
		start, end := max(k*512, in), min(j*512, in+n)
		fileOff := int64(-1)
		if present(k) {
			fileOff = base + l.bitmapLen + start
		}
		if err := fn(start, end-start, fileOff); err != nil {
			return err
		}
		k = j
	}
	return nil
}

// errStop ends a walk when the consumer of Extents stops early.
var errStop = errors.New("stop")
