package main

import (
	"bytes"
	"io"

	"hash/crc64"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
)

func streamingBody(b []byte) io.ReadSeekCloser { return nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func blobCRC(b []byte) blob.TransferValidationType {
	// Azure's CRC-64 polynomial, as the agent computes it.
	return blob.TransferValidationTypeCRC64(crc64.Checksum(b, crc64.MakeTable(0x9A6C9329AC4BC9B5)))
}

func rangeOf(off, n int64) blob.HTTPRange { return blob.HTTPRange{Offset: off, Count: n} }
