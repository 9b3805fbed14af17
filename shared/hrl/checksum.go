package hrl

import "encoding/binary"

// Checksum returns the [MS-HRL] checksum of b: the bitwise NOT of the
// 32-bit wrapping sum of its bytes, leaving out the 4 bytes starting at skip
// (pass a negative skip to include every byte). It is not a CRC.
func Checksum(b []byte, skip int) uint32 {
	s := byteSum(b)
	if skip >= 0 && skip+4 <= len(b) {
		s -= byteSum(b[skip : skip+4])
	}
	return ^uint32(s)
}

// dataSum accumulates the checksum of data that arrives in pieces.
type dataSum uint32

// add adds b's bytes to the running sum.
func (d *dataSum) add(b []byte) { *d += dataSum(byteSum(b)) }

// checksum returns the finished checksum.
func (d dataSum) checksum() uint32 { return ^uint32(d) }

const (
	laneMask = 0x00FF00FF00FF00FF
	// laneRounds bounds the inner loop so that no 16-bit lane overflows:
	// each round adds at most 2*255 to a lane, and 128*510 < 65536.
	laneRounds = 128
)

// byteSum returns the sum of b's bytes. It adds eight bytes at a time in
// four 16-bit lanes per word and folds the lanes every laneRounds words.
func byteSum(b []byte) uint64 {
	var total uint64
	for len(b) >= 32 {
		rounds := min(len(b)/32, laneRounds)
		var a0, a1, a2, a3 uint64
		for range rounds {
			w0 := binary.LittleEndian.Uint64(b[0:8])
			w1 := binary.LittleEndian.Uint64(b[8:16])
			w2 := binary.LittleEndian.Uint64(b[16:24])
			w3 := binary.LittleEndian.Uint64(b[24:32])
			a0 += w0&laneMask + (w0>>8)&laneMask
			a1 += w1&laneMask + (w1>>8)&laneMask
			a2 += w2&laneMask + (w2>>8)&laneMask
			a3 += w3&laneMask + (w3>>8)&laneMask
			b = b[32:]
		}
		total += foldLanes(a0) + foldLanes(a1) + foldLanes(a2) + foldLanes(a3)
	}
	for _, c := range b {
		total += uint64(c)
	}
	return total
}

// foldLanes adds the four 16-bit lanes of x.
func foldLanes(x uint64) uint64 {
	x = x&0x0000FFFF0000FFFF + (x>>16)&0x0000FFFF0000FFFF
	return x&0xFFFFFFFF + x>>32
}
