package blob

import (
	"bytes"
	"hash/crc64"
)

// CRC64Poly is the polynomial of the CRC-64 Azure Storage uses for
// x-ms-content-crc64 (in the reversed form hash/crc64 expects). It is
// neither crc64.ISO nor crc64.ECMA.
const CRC64Poly = 0x9A6C9329AC4BC9B5

// crcTable is built once; it is read-only after construction.
var crcTable = crc64.MakeTable(CRC64Poly)

// Checksum returns the Azure CRC-64 of b.
func Checksum(b []byte) uint64 {
	return crc64.Checksum(b, crcTable)
}

// UpdateChecksum extends crc with b.
func UpdateChecksum(crc uint64, b []byte) uint64 {
	return crc64.Update(crc, crcTable, b)
}

// NewPayload returns a payload over b with its checksum.
func NewPayload(b []byte) Payload {
	return Payload{Body: bytes.NewReader(b), Size: int64(len(b)), CRC64: Checksum(b)}
}
