package hrl

import "fmt"

// Options tell the reader what the caller knows about the tracked disk and
// how strict to be. The zero value is usable; DefaultOptions documents the
// defaults.
type Options struct {
	// Name identifies the file in error messages (Open sets the path).
	Name string
	// DiskSize is the virtual disk size in bytes: a write that ends past it
	// is rejected (E3). 0 means unknown: only u64 overflow and the int64
	// range are checked.
	DiskSize int64
	// SectorSize is the disk's logical sector size; ByteOffset and
	// DataLength must be multiples of it (E4). 0 means 512.
	SectorSize int
	// AllowUnaligned turns off the sector alignment check (E4), for a
	// caller that does read-modify-write.
	AllowUnaligned bool
	// ExpectedDataWriteGUID, when non-zero, must equal the header's
	// Vhd2DataWriteGuid byte for byte (H13); a v1 log, which has no such
	// field, is then rejected.
	ExpectedDataWriteGUID GUID
	// AllowErrorCode accepts a header with a non-zero ErrorCode (H12); the
	// code is still reported as a warning.
	AllowErrorCode bool
	// EntryChecksum selects strict (default) or lenient entry checksums.
	EntryChecksum EntryChecksum
	// MaxBlocks caps the number of metadata blocks held in memory (16 bytes
	// each). 0 means DefaultMaxBlocks.
	MaxBlocks int
	// MaxWarnings caps the warnings kept; further ones are only counted.
	// 0 means DefaultMaxWarnings.
	MaxWarnings int
}

// Reader defaults.
const (
	DefaultSectorSize  = 512
	DefaultMaxBlocks   = 1 << 24
	DefaultMaxWarnings = 100
)

// DefaultOptions returns the options every default is written into.
func DefaultOptions() Options {
	return Options{SectorSize: DefaultSectorSize, MaxBlocks: DefaultMaxBlocks, MaxWarnings: DefaultMaxWarnings}
}

// normalized fills zero fields with defaults and checks ranges.
func (o Options) normalized() (Options, error) {
	d := DefaultOptions()
	if o.SectorSize == 0 {
		o.SectorSize = d.SectorSize
	}
	if o.MaxBlocks == 0 {
		o.MaxBlocks = d.MaxBlocks
	}
	if o.MaxWarnings == 0 {
		o.MaxWarnings = d.MaxWarnings
	}
	if o.SectorSize < 0 || o.DiskSize < 0 || o.MaxBlocks < 0 || o.MaxWarnings < 0 {
		return o, fmt.Errorf("reader options %+v: negative value: %w", o, ErrOptions)
	}
	if o.Name == "" {
		o.Name = "hrl log"
	}
	return o, nil
}

// Warning is a finding the digest classes as "warn": reported, not fatal.
type Warning struct {
	// Check is the digest's check id (H10, H11, H12, M7, E5, E7, F1, F2).
	Check string `json:"check"`
	// Message names the structure, its offset and the field.
	Message string `json:"message"`
}

// String renders the warning for logs.
func (w Warning) String() string { return w.Check + ": " + w.Message }
