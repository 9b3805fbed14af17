package hrl

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of
// them, so callers branch with errors.Is and never match strings. The
// comments name the validation check of the project's [MS-HRL] digest that
// each one reports.
var (
	// ErrTruncated: the file is shorter than a structure it must hold (H1),
	// or EOLLocation lies past the end of the file (H9).
	ErrTruncated = errors.New("hrl: file truncated")
	// ErrNotHRL: the cookie is not "msctlog" (H2) or FileType is not 0 (H5).
	ErrNotHRL = errors.New("hrl: not an HRL file")
	// ErrChecksum: a stored checksum does not match the bytes (H3, M2, E1, E6).
	ErrChecksum = errors.New("hrl: checksum mismatch")
	// ErrUnsupportedVersion: LogFormatVersion is neither 0x00010000 nor
	// 0x00020000 (H4); this also catches a byte-swapped file.
	ErrUnsupportedVersion = errors.New("hrl: unsupported log format version")
	// ErrFlags: the Flags field, which must be 0, is not (H6).
	ErrFlags = errors.New("hrl: flags not zero")
	// ErrNotClosed: EOLLocation is 0, the log was not closed cleanly (H7).
	// The caller should resynchronise the disk rather than salvage the log.
	ErrNotClosed = errors.New("hrl: log not closed")
	// ErrMetadataSize: MetadataSize is out of bounds or not a multiple of 32 (H8).
	ErrMetadataSize = errors.New("hrl: bad metadata size")
	// ErrBadEOL: EOLLocation is too small to hold one metadata block (H9).
	ErrBadEOL = errors.New("hrl: bad end-of-log location")
	// ErrErrorCode: the header carries a non-zero ErrorCode, whose meaning is
	// undocumented (H12).
	ErrErrorCode = errors.New("hrl: log carries a non-zero error code")
	// ErrDataWriteGUID: Vhd2DataWriteGuid differs from the identity the
	// caller expects, or the log (v1) has none (H13).
	ErrDataWriteGUID = errors.New("hrl: Vhd2DataWriteGuid mismatch")
	// ErrBrokenChain: a metadata block lies outside [4096, EOLLocation) or
	// PreviousMetadataLocation does not step back by at least one block
	// (M1, M4, M5).
	ErrBrokenChain = errors.New("hrl: broken metadata chain")
	// ErrTooManyEntries: ValidMetadataEntries exceeds the slot count (M3).
	ErrTooManyEntries = errors.New("hrl: too many metadata entries")
	// ErrNotContiguous: a block's data does not end exactly where the block
	// starts (M6): a gap, an overlap or a bad DataLength.
	ErrNotContiguous = errors.New("hrl: data not contiguous with metadata")
	// ErrOperation: MetaOperation is not 1, the only defined operation (E2).
	ErrOperation = errors.New("hrl: unsupported metadata operation")
	// ErrPastEnd: ByteOffset+DataLength overflows or lies past the virtual
	// disk size (E3).
	ErrPastEnd = errors.New("hrl: write past end of disk")
	// ErrUnaligned: ByteOffset or DataLength is not a multiple of the disk's
	// logical sector size (E4).
	ErrUnaligned = errors.New("hrl: write not sector aligned")
	// ErrLimit: the file holds more blocks than the reader's configured cap.
	ErrLimit = errors.New("hrl: limit exceeded")
	// ErrLogChain: a log's PreviousUniqueId is not the UniqueId of the log
	// before it (C1).
	ErrLogChain = errors.New("hrl: log chain broken")
	// ErrDuplicateLog: the same UniqueId appears twice in a chain (C2).
	ErrDuplicateLog = errors.New("hrl: log applied twice")
	// ErrInvalidWrite: the writer was given a write it cannot record.
	ErrInvalidWrite = errors.New("hrl: invalid write")
	// ErrWriterClosed: the writer was used after Close or after a failure.
	ErrWriterClosed = errors.New("hrl: writer closed")
	// ErrOptions: reader or writer options are out of range.
	ErrOptions = errors.New("hrl: invalid options")
)

// fieldError builds an error naming the structure, its file offset and the
// field, wrapping sentinel. The reader prefixes the file name.
func fieldError(sentinel error, structure string, off int64, field, format string, args ...any) error {
	return fmt.Errorf("%s at offset %d: field %s: %s: %w",
		structure, off, field, fmt.Sprintf(format, args...), sentinel)
}
