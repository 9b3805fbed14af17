// Package vhdtest builds VHD files for tests: fixed, dynamic and
// differencing disks, written straight from the specification's tables with
// no code shared with the reader, so that the reader and the builder check
// each other (and qemu-img checks the builder's dynamic disks).
package vhdtest

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"unicode/utf16"
)

// Disk types, as stored in the footer.
const (
	Fixed        = 2
	Dynamic      = 3
	Differencing = 4
)

// Parent names the parent of a differencing disk.
type Parent struct {
	UniqueID  [16]byte
	TimeStamp uint32
	Name      string // ParentUnicodeName; empty for none
	Relative  string // W2ru locator path; empty for none
	Absolute  string // W2ku locator path; empty for none
}

// Image is a VHD under construction. Set the fields, Write data, then call
// Bytes or WriteFile.
type Image struct {
	Type      uint32
	Size      int64    // CurrentSize, a multiple of 512
	BlockSize uint32   // 0 means 2 MiB
	UniqueID  [16]byte // footer UniqueId
	TimeStamp uint32
	Creator   string // 4 characters; "" means "win "
	Parent    *Parent
	// Garbage fills the sectors of allocated blocks that no Write covered,
	// to check that readers honour the sector bitmap.
	Garbage byte
	// ReverseBlocks stores blocks in the file in decreasing block order.
	ReverseBlocks bool
	// ExtraEntries is added to MaxTableEntries beyond what Size needs.
	ExtraEntries uint32

	fixed  []byte
	blocks map[int64][]byte // block index -> bitmap followed by data
}

// New returns an image of the given type and size with UniqueId id.
func New(typ uint32, size int64, id [16]byte) *Image {
	return &Image{Type: typ, Size: size, UniqueID: id, TimeStamp: 1000}
}

func (im *Image) blockSize() int64 {
	if im.BlockSize == 0 {
		return 2 << 20
	}
	return int64(im.BlockSize)
}

// BitmapLen is the sector bitmap size of a block of blockSize bytes.
func BitmapLen(blockSize int64) int64 {
	return ((blockSize/512+7)/8 + 511) / 512 * 512
}

// Write stores data at the sector-aligned offset off and marks its sectors
// present. It panics on a misaligned or out-of-range write (a test bug).
func (im *Image) Write(off int64, data []byte) {
	if off%512 != 0 || len(data)%512 != 0 || off < 0 || off+int64(len(data)) > im.Size {
		panic(fmt.Sprintf("vhdtest: bad write of %d bytes at %d", len(data), off))
	}
	if im.Type == Fixed {
		if im.fixed == nil {
			im.fixed = make([]byte, im.Size)
		}
		copy(im.fixed[off:], data)
		return
	}
	bs := im.blockSize()
	bml := BitmapLen(bs)
	for len(data) > 0 {
		blk, in := off/bs, off%bs
		n := min(int64(len(data)), bs-in)
		b := im.block(blk, bml, bs)
		copy(b[bml+in:], data[:n])
		for k := in / 512; k < (in+n)/512; k++ {
			b[k/8] |= 0x80 >> (k % 8)
		}
		data, off = data[n:], off+n
	}
}

func (im *Image) block(blk, bml, bs int64) []byte {
	if im.blocks == nil {
		im.blocks = map[int64][]byte{}
	}
	b, ok := im.blocks[blk]
	if !ok {
		b = make([]byte, bml+bs)
		for i := bml; i < int64(len(b)); i++ {
			b[i] = im.Garbage
		}
		im.blocks[blk] = b
	}
	return b
}

// SetBitmap overwrites the sector bitmap of an allocated block (to make the
// bitmap and the data disagree on purpose).
func (im *Image) SetBitmap(blk int64, bitmap []byte) {
	copy(im.blocks[blk], bitmap)
}

// WriteFile writes the image to path.
func (im *Image) WriteFile(path string) error {
	return os.WriteFile(path, im.Bytes(), 0o644)
}

// Bytes returns the whole file.
func (im *Image) Bytes() []byte {
	if im.Type == Fixed {
		out := make([]byte, im.Size, im.Size+512)
		copy(out, im.fixed)
		return append(out, im.footer(^uint64(0))...)
	}
	return im.dynamic()
}

// blockOrder lists the allocated blocks in file order.
func (im *Image) blockOrder() []int64 {
	var idx []int64
	for k := range im.blocks {
		idx = append(idx, k)
	}
	sort.Slice(idx, func(a, b int) bool { return (idx[a] < idx[b]) != im.ReverseBlocks })
	return idx
}

func sum(b []byte) uint32 {
	var s uint32
	for _, c := range b {
		s += uint32(c)
	}
	return ^s
}

func utf16Bytes(s string, order binary.ByteOrder) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		order.PutUint16(b[2*i:], c)
	}
	return b
}
