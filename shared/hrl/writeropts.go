package hrl

import (
	"crypto/rand"
	"fmt"
	"time"
)

// WriterOptions configure a Writer. Start from DefaultWriterOptions.
type WriterOptions struct {
	// UniqueID is this log's UniqueId; zero means a new random one.
	UniqueID GUID
	// PreviousUniqueID is the UniqueId of the previous log of the disk,
	// zero for the first log of a chain.
	PreviousUniqueID GUID
	// DataWriteGUID is the tracked VHDX's DataWriteGuid in file layout
	// (see GUIDFromCanonical), sampled when the log is created.
	DataWriteGUID GUID
	// MetadataSize is the size of each metadata block (default 4096).
	MetadataSize uint32
	// EntriesPerBlock seals a block after this many entries; 0 or more
	// than the slot count means a full block.
	EntriesPerBlock int
	// MaxBlockData seals a block once its data reaches this many bytes;
	// 0 means no limit.
	MaxBlockData int64
	// LeadingEmptyBlock writes an empty metadata block right after the
	// header, as the specification's example file has.
	LeadingEmptyBlock bool
	// Sync makes every sealed block and the final header durable with
	// fsync (when the destination has a Sync method).
	Sync bool
	// OmitDataChecksum writes DataChecksum = 0 ("not recorded").
	OmitDataChecksum bool
	// CreatorApplication and CreatorVersion identify the writer.
	CreatorApplication [4]byte
	CreatorVersion     uint32
	// BufferSize is the size of the append buffer (default 1 MiB).
	BufferSize int
	// Now is the clock for timestamps (default time.Now).
	Now func() time.Time
}

// DefaultWriterOptions returns the writer defaults.
func DefaultWriterOptions() WriterOptions {
	return WriterOptions{
		MetadataSize:       DefaultMetadataSize,
		LeadingEmptyBlock:  true,
		Sync:               true,
		CreatorApplication: [4]byte{'h', 'v', 'm'},
		CreatorVersion:     0x00010000,
		BufferSize:         1 << 20,
		Now:                time.Now,
	}
}

// normalized fills zero values and checks ranges.
func (o WriterOptions) normalized() (WriterOptions, error) {
	if o.MetadataSize == 0 {
		o.MetadataSize = DefaultMetadataSize
	}
	if err := checkMetadataSize(o.MetadataSize); err != nil {
		return o, fmt.Errorf("writer options: %w: %w", err, ErrOptions)
	}
	if slots := slotsFor(o.MetadataSize); o.EntriesPerBlock <= 0 || o.EntriesPerBlock > slots {
		o.EntriesPerBlock = slots
	}
	if o.MaxBlockData < 0 || o.BufferSize < 0 {
		return o, fmt.Errorf("writer options: negative MaxBlockData or BufferSize: %w", ErrOptions)
	}
	if o.BufferSize == 0 {
		o.BufferSize = 1 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UniqueID.IsZero() {
		if _, err := rand.Read(o.UniqueID[:]); err != nil {
			return o, fmt.Errorf("writer options: new UniqueId: %w", err)
		}
		o.UniqueID[7] = o.UniqueID[7]&0x0f | 0x40 // version 4 (Windows layout)
		o.UniqueID[8] = o.UniqueID[8]&0x3f | 0x80 // RFC 4122 variant
	}
	return o, nil
}
