// Package azcrc computes the CRC-64 Azure Storage uses for transactional
// content checks (x-ms-content-crc64): polynomial 0x9A6C9329AC4BC9B5 in
// reflected bit order, initial value and final XOR all ones (the same CRC
// as CRC-64/NVME). Neither hash/crc64.ISO nor hash/crc64.ECMA.
//
// The standard library's generic path rebuilds its slicing tables on every
// call for a polynomial other than ISO and ECMA; this package builds them
// once, and for large buffers runs four independent streams through the
// tables at once (combined at the end), which keeps the CPU's load units
// busy. Every agent request and delta object is checksummed, so this is on
// the hot path of every upload.
package azcrc

import (
	"encoding/binary"
	"sync"
)

// Poly is the polynomial in reflected bit order, as hash/crc64.MakeTable
// takes it.
const Poly = 0x9A6C9329AC4BC9B5

// tables holds the immutable lookup data: slicing-by-8 tables and
// x^(8*2^k) mod P for k = 0..63, used to combine CRCs.
type tables struct {
	slice [8][256]uint64
	pow   [64]uint64
}

var tablesOnce = sync.OnceValue(func() *tables {
	t := &tables{}
	for i := range 256 {
		c := uint64(i)
		for range 8 {
			c = c>>1 ^ Poly*(c&1)
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

// laneMin is the buffer size from which four interleaved streams pay for
// the three combines they need.
const laneMin = 4 << 10

// Checksum returns the CRC-64 of p.
func Checksum(p []byte) uint64 {
	if len(p) >= laneMin {
		return lanes(p)
	}
	return Update(0, p)
}

// Update continues crc (a finished CRC, as Checksum returns) over p.
func Update(crc uint64, p []byte) uint64 {
	s := &tablesOnce().slice
	crc = ^crc
	for ; len(p) >= 8; p = p[8:] {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = step(s, crc)
	}
	for _, v := range p {
		crc = s[0][byte(crc)^v] ^ crc>>8
	}
	return ^crc
}

func step(s *[8][256]uint64, c uint64) uint64 {
	return s[7][c&0xff] ^ s[6][c>>8&0xff] ^ s[5][c>>16&0xff] ^ s[4][c>>24&0xff] ^
		s[3][c>>32&0xff] ^ s[2][c>>40&0xff] ^ s[1][c>>48&0xff] ^ s[0][c>>56]
}

// lanes checksums p as four equal streams and a tail, combined.
func lanes(p []byte) uint64 {
	s := &tablesOnce().slice
	n := len(p) / 4 &^ 7
	a, b, c, d := ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)
	pa, pb, pc, pd := p[:n], p[n:2*n], p[2*n:3*n], p[3*n:4*n]
	for i := 0; i < n; i += 8 {
		a = step(s, a^binary.LittleEndian.Uint64(pa[i:]))
		b = step(s, b^binary.LittleEndian.Uint64(pb[i:]))
		c = step(s, c^binary.LittleEndian.Uint64(pc[i:]))
		d = step(s, d^binary.LittleEndian.Uint64(pd[i:]))
	}
	crc := Combine(^a, ^b, int64(n))
	crc = Combine(crc, ^c, int64(n))
	crc = Combine(crc, ^d, int64(n))
	return Update(crc, p[4*n:])
}

// Combine returns the CRC-64 of A followed by B, given crcA, crcB and the
// length of B, without reading the bytes again.
func Combine(crcA, crcB uint64, lenB int64) uint64 {
	t := tablesOnce()
	shift := uint64(1) << 63 // x^0
	for k := 0; lenB != 0; k, lenB = k+1, lenB>>1 {
		if lenB&1 != 0 {
			shift = gfMul(shift, t.pow[k])
		}
	}
	return gfMul(shift, crcA) ^ crcB
}

// gfMul multiplies a and b modulo the polynomial, both in reflected bit
// order (bit 63 holds the coefficient of x^0).
func gfMul(a, b uint64) uint64 {
	var p uint64
	for m := uint64(1) << 63; m != 0 && a&(m|(m-1)) != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
		}
		b = b>>1 ^ Poly*(b&1)
	}
	return p
}
