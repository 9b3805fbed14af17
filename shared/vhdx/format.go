package vhdx

import (
	"encoding/binary"
	"hash/crc32"
)

const (
	kiB = int64(1) << 10
	miB = int64(1) << 20

	headerSection = miB
	header1Off    = 64 * kiB
	header2Off    = 128 * kiB
	headerSize    = 4 * kiB
	region1Off    = 192 * kiB
	region2Off    = 256 * kiB
	regionSize    = 64 * kiB

	maxRegionEntries   = 2047
	maxMetadataEntries = 2047
	maxUserItems       = 1024
	metadataTableSize  = 64 * kiB
	maxItemLength      = miB

	maxVirtualSize = int64(64) << 40
	minBlockSize   = miB
	maxBlockSize   = 256 * miB
	sbBlockSize    = miB

	logSector = 4 * kiB
	// maxReplayLog bounds the log this package replays; the replay overlay
	// never holds more than the log's size.
	maxReplayLog = 64 * miB
	// maxLogExtension bounds how far a replayed log may extend the file
	// (LastFileOffset and descriptor targets past the end of the file).
	maxLogExtension = int64(1) << 30
	// maxFileSize bounds file sizes implied by logs and BAT entries.
	maxFileSize = int64(128) << 40

	maxChainDepth = 32
)

const (
	sigFile     = "vhdxfile"
	sigHeader   = "head"
	sigRegion   = "regi"
	sigLogEntry = "loge"
	sigDataDesc = "desc"
	sigZeroDesc = "zero"
	sigData     = "data"
	sigMetadata = "metadata"
)

// crc32c returns the CRC-32C of b with the 4 bytes at csOff treated as zero.
func crc32c(b []byte, csOff int) uint32 {
	t := crc32.MakeTable(crc32.Castagnoli)
	c := crc32.Update(0, t, b[:csOff])
	c = crc32.Update(c, t, []byte{0, 0, 0, 0})
	return crc32.Update(c, t, b[csOff+4:])
}

// putCRC stores the CRC-32C of b at csOff.
func putCRC(b []byte, csOff int) {
	binary.LittleEndian.PutUint32(b[csOff:], crc32c(b, csOff))
}

// checkCRC reports whether the checksum stored at csOff matches.
func checkCRC(b []byte, csOff int) bool {
	return binary.LittleEndian.Uint32(b[csOff:]) == crc32c(b, csOff)
}

// u16, u32 and u64 read little-endian fields; put16, put32 and put64 write
// them.
func u16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func u32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func u64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func put16(b []byte, v uint16) { binary.LittleEndian.PutUint16(b, v) }
func put32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func put64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// isPow2 reports whether v is a positive power of two.
func isPow2(v int64) bool { return v > 0 && v&(v-1) == 0 }

// alignUp rounds v up to a multiple of a (a power of two).
func alignUp(v, a int64) int64 { return (v + a - 1) &^ (a - 1) }
