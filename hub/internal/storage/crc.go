package storage

import "hvmigrate/shared/azcrc"

// CRC64 returns the CRC-64 Azure Storage computes over p (x-ms-content-crc64);
// the delta format's checksums use the same CRC.
func CRC64(p []byte) uint64 { return azcrc.Checksum(p) }
