package hrl

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// ParseHeader decodes and validates a log file header: length (H1), cookie
// (H2), checksum (H3), version (H4), FileType (H5), Flags (H6), EOLLocation
// non-zero (H7) and MetadataSize (H8). Checks that need the file size or
// the caller's expectations are done by NewReader.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fieldError(ErrTruncated, "header", 0, "Cookie",
			"have %d bytes, need %d", len(b), HeaderSize)
	}
	b = b[:HeaderSize]
	if err := checkCookie(b); err != nil {
		return Header{}, err
	}
	stored := binary.LittleEndian.Uint32(b[offHeaderChecksum:])
	if sum := Checksum(b, offHeaderChecksum); sum != stored {
		return Header{}, fieldError(ErrChecksum, "header", 0, "Checksum",
			"stored %#08x, computed %#08x", stored, sum)
	}
	h := decodeHeader(b)
	return h, checkHeaderFields(h)
}

func checkCookie(b []byte) error {
	if !bytes.Equal(b[:7], []byte(cookieLetters)) || (b[7] != 0 && b[7] != ' ') {
		return fieldError(ErrNotHRL, "header", 0, "Cookie", "have %q, want %q", b[:8], cookieLetters)
	}
	return nil
}

func checkHeaderFields(h Header) error {
	switch {
	case h.LogFormatVersion != Version1 && h.LogFormatVersion != Version2:
		return fieldError(ErrUnsupportedVersion, "header", offVersion, "LogFormatVersion",
			"have %#08x, want %#08x or %#08x", h.LogFormatVersion, Version2, Version1)
	case h.FileType != FileTypeHRL:
		return fieldError(ErrNotHRL, "header", offFileType, "FileType", "have %d, want 0", h.FileType)
	case h.Flags != [2]byte{}:
		return fieldError(ErrFlags, "header", offFlags, "Flags", "have %x, want 0000", h.Flags)
	case h.EOLLocation == 0:
		return fieldError(ErrNotClosed, "header", offEOL, "EOLLocation",
			"is 0: the log was not closed cleanly")
	}
	return checkMetadataSize(h.MetadataSize)
}

func checkMetadataSize(ms uint32) error {
	if ms < MinMetadataSize || ms > MaxMetadataSize || ms%EntrySize != 0 {
		return fieldError(ErrMetadataSize, "header", offMetadataSize, "MetadataSize",
			"have %d, want a multiple of %d in [%d, %d]", ms, EntrySize, MinMetadataSize, MaxMetadataSize)
	}
	return nil
}

// MetadataHeader is the 32-byte header of a metadata block
// (_CTLOG_METADATA_HEADER_PACKED).
type MetadataHeader struct {
	// PreviousMetadataLocation is the distance back from this block to the
	// previous one; 0 for the first block.
	PreviousMetadataLocation uint64   `json:"previous_metadata_location"`
	ValidMetadataEntries     uint32   `json:"valid_metadata_entries"`
	Checksum                 uint32   `json:"checksum"`
	Reserved                 [16]byte `json:"-"`
}

const (
	offMDPrevious = 0
	offMDValid    = 8
	offMDChecksum = 12
	offMDReserved = 16
)

// ParseMetadataHeader decodes and checksums (M2) the 32-byte metadata
// header in b, found at file offset off (used in messages).
func ParseMetadataHeader(b []byte, off int64) (MetadataHeader, error) {
	if len(b) < MetadataHeaderSize {
		return MetadataHeader{}, fieldError(ErrTruncated, "metadata header", off, "PreviousMetadataLocation",
			"have %d bytes, need %d", len(b), MetadataHeaderSize)
	}
	b = b[:MetadataHeaderSize]
	le := binary.LittleEndian
	m := MetadataHeader{
		PreviousMetadataLocation: le.Uint64(b[offMDPrevious:]),
		ValidMetadataEntries:     le.Uint32(b[offMDValid:]),
		Checksum:                 le.Uint32(b[offMDChecksum:]),
	}
	copy(m.Reserved[:], b[offMDReserved:])
	if sum := Checksum(b, offMDChecksum); sum != m.Checksum {
		return m, fieldError(ErrChecksum, "metadata header", off, "Checksum",
			"stored %#08x, computed %#08x", m.Checksum, sum)
	}
	return m, nil
}

// Marshal encodes m into 32 bytes with a freshly computed Checksum.
func (m MetadataHeader) Marshal() []byte {
	b := make([]byte, MetadataHeaderSize)
	m.put(b)
	return b
}

func (m MetadataHeader) put(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[offMDPrevious:], m.PreviousMetadataLocation)
	le.PutUint32(b[offMDValid:], m.ValidMetadataEntries)
	copy(b[offMDReserved:MetadataHeaderSize], m.Reserved[:])
	le.PutUint32(b[offMDChecksum:], Checksum(b[:MetadataHeaderSize], offMDChecksum))
}

// String summarises the header for messages.
func (m MetadataHeader) String() string {
	return fmt.Sprintf("prev=%d valid=%d checksum=%#08x", m.PreviousMetadataLocation, m.ValidMetadataEntries, m.Checksum)
}
