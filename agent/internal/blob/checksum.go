package blob

import (
	"bytes"

	"hvmigrate/shared/azcrc"
)

// CRC64Poly is the polynomial of the CRC-64 Azure Storage uses for
// x-ms-content-crc64 (in the reversed form hash/crc64 expects). It is
// neither crc64.ISO nor crc64.ECMA.
const CRC64Poly = azcrc.Poly

// Checksum returns the Azure CRC-64 of b.
func Checksum(b []byte) uint64 { return azcrc.Checksum(b) }

// UpdateChecksum extends crc with b.
func UpdateChecksum(crc uint64, b []byte) uint64 { return azcrc.Update(crc, b) }

// NewPayload returns a payload over b with its checksum.
func NewPayload(b []byte) Payload {
	return Payload{Body: bytes.NewReader(b), Size: int64(len(b)), CRC64: Checksum(b)}
}
