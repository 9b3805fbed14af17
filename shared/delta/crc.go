package delta

import (
	"encoding/binary"
	"sync"
)

// crcPoly is the CRC-64 polynomial Azure Storage uses for its transactional
// content CRC-64, in reflected bit order (as hash/crc64.MakeTable takes it).
const crcPoly = 0x9A6C9329AC4BC9B5

// crcTables holds the immutable lookup data for the CRC-64: slicing-by-8
// tables and x^(8*2^k) mod P for k = 0..63, used to combine two CRCs.
type crcTables struct {
	slice [8][256]uint64
	pow   [64]uint64
}

// crcTablesOnce builds the tables on first use; they are never modified.
var crcTablesOnce = sync.OnceValue(func() *crcTables {
	t := &crcTables{}
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			c = c>>1 ^ crcPoly*(c&1)
		}
		t.slice[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range 256 {
			prev := t.slice[k-1][i]
			t.slice[k][i] = prev>>8 ^ t.slice[0][prev&0xff]
		}
	}
	t.pow[0] = 1 << (63 - 8) // x^8 in reflected bit order
	for k := 1; k < len(t.pow); k++ {
		t.pow[k] = gfMul(t.pow[k-1], t.pow[k-1])
	}
	return t
})

// checksum returns the CRC-64 of p.
func checksum(p []byte) uint64 { return crcUpdate(0, p) }

// crcUpdate continues a CRC-64 over p, eight bytes per step. The standard
// library's generic path rebuilds its eight-way tables on every call for
// a custom polynomial, which costs more than a small extent's checksum.
func crcUpdate(crc uint64, p []byte) uint64 {
	s := &crcTablesOnce().slice
	crc = ^crc
	for ; len(p) >= 8; p = p[8:] {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = s[7][crc&0xff] ^ s[6][crc>>8&0xff] ^ s[5][crc>>16&0xff] ^ s[4][crc>>24&0xff] ^
			s[3][crc>>32&0xff] ^ s[2][crc>>40&0xff] ^ s[1][crc>>48&0xff] ^ s[0][crc>>56]
	}
	for _, v := range p {
		crc = s[0][byte(crc)^v] ^ crc>>8
	}
	return ^crc
}

// crcCombine returns the CRC-64 of A followed by B, given crcA, crcB and the
// length of B, without reading the bytes again.
func crcCombine(crcA, crcB uint64, lenB int64) uint64 {
	t := crcTablesOnce()
	shift := uint64(1) << 63 // x^0
	for k := 0; lenB != 0; k, lenB = k+1, lenB>>1 {
		if lenB&1 != 0 {
			shift = gfMul(shift, t.pow[k])
		}
	}
	return gfMul(shift, crcA) ^ crcB
}

// gfMul multiplies a and b modulo the polynomial, both in reflected bit order
// (bit 63 holds the coefficient of x^0).
func gfMul(a, b uint64) uint64 {
	var p uint64
	for m := uint64(1) << 63; m != 0 && a&(m|(m-1)) != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		b = b>>1 ^ crcPoly*(b&1)
	}
	return p
}
