package delta

import "hvmigrate/shared/azcrc"

// checksum returns the CRC-64 (Azure's polynomial) of p.
func checksum(p []byte) uint64 { return azcrc.Checksum(p) }

// crcUpdate continues a CRC-64 over p.
func crcUpdate(crc uint64, p []byte) uint64 { return azcrc.Update(crc, p) }

// crcCombine returns the CRC-64 of A followed by B, given crcA, crcB and the
// length of B, without reading the bytes again.
func crcCombine(crcA, crcB uint64, lenB int64) uint64 { return azcrc.Combine(crcA, crcB, lenB) }
