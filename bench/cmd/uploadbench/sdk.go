package main

import (
	"bytes"
	"io"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"

	"hvmigrate/shared/azcrc"
)

func streamingBody(b []byte) io.ReadSeekCloser { return nopCloser{bytes.NewReader(b)} }

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func blobCRC(b []byte) blob.TransferValidationType {
	// Azure's CRC-64, computed the way the agent computes it.
	return blob.TransferValidationTypeCRC64(azcrc.Checksum(b))
}

func rangeOf(off, n int64) blob.HTTPRange { return blob.HTTPRange{Offset: off, Count: n} }
