package hrl

import (
	"encoding/binary"
	"time"
)

// Sizes, versions and codes fixed by [MS-HRL].
const (
	HeaderSize          = 4096       // the log file header at offset 0
	MetadataHeaderSize  = 32         // the header of each metadata block
	EntrySize           = 32         // one metadata entry slot
	DefaultMetadataSize = 4096       // MetadataSize writers use
	MinMetadataSize     = 64         // a header plus one slot
	MaxMetadataSize     = 1 << 20    // sanity cap on MetadataSize
	Version1            = 0x00010000 // Log Format Version 1 (read only)
	Version2            = 0x00020000 // Log Format Version 2
	FileTypeHRL         = 0          // the only defined FileType
	OpWrite             = 1          // the only defined MetaOperation
)

// Header field offsets inside the 4096-byte header (packed layout).
const (
	offCookie          = 0
	offVersion         = 8
	offTimeStamp       = 12
	offCreatorApp      = 16
	offCreatorVersion  = 20
	offOriginalSize    = 24
	offCurrentSize     = 32
	offHeaderChecksum  = 40
	offEOL             = 44
	offErrorCode       = 52
	offMetadataSize    = 56
	offUniqueID        = 60
	offPreviousID      = 76
	offLastModified    = 92
	offTotalEntries    = 96
	offFileType        = 104
	offFlags           = 108
	offDataWriteGUID   = 110
	offReservedV2      = 126
	offReservedV1      = 110
	cookieLetters      = "msctlog"
	noDataChecksumSize = 16 << 20
)

// Header is the decoded log file header (_CTLOG_HEADER_PACKED).
type Header struct {
	Cookie                [8]byte `json:"-"`
	LogFormatVersion      uint32  `json:"log_format_version"`
	TimeStamp             uint32  `json:"time_stamp"`
	CreatorApplication    [4]byte `json:"-"`
	CreatorVersion        uint32  `json:"creator_version"`
	OriginalSize          uint64  `json:"original_size"`
	CurrentSize           uint64  `json:"current_size"`
	Checksum              uint32  `json:"checksum"`
	EOLLocation           uint64  `json:"eol_location"`
	ErrorCode             int32   `json:"error_code"`
	MetadataSize          uint32  `json:"metadata_size"`
	UniqueID              GUID    `json:"unique_id"`
	PreviousUniqueID      GUID    `json:"previous_unique_id"`
	LastModifiedTimeStamp uint32  `json:"last_modified_time_stamp"`
	TotalMetadataEntries  uint64  `json:"total_metadata_entries"`
	FileType              uint32  `json:"file_type"`
	Flags                 [2]byte `json:"flags"`
	// Vhd2DataWriteGUID is zero in a version 1 log, which lacks the field.
	Vhd2DataWriteGUID GUID `json:"vhd2_data_write_guid"`
	// ReservedZero reports whether the reserved bytes were all zero when
	// decoded; encoding always writes zeros.
	ReservedZero bool `json:"reserved_zero"`
}

// Slots returns the number of entry slots per metadata block.
func (h Header) Slots() int { return slotsFor(h.MetadataSize) }

func slotsFor(ms uint32) int { return int(ms-MetadataHeaderSize) / EntrySize }

// decodeHeader decodes the 4096 bytes of b without validating them.
func decodeHeader(b []byte) Header {
	le := binary.LittleEndian
	var h Header
	copy(h.Cookie[:], b[offCookie:])
	h.LogFormatVersion = le.Uint32(b[offVersion:])
	h.TimeStamp = le.Uint32(b[offTimeStamp:])
	copy(h.CreatorApplication[:], b[offCreatorApp:])
	h.CreatorVersion = le.Uint32(b[offCreatorVersion:])
	h.OriginalSize = le.Uint64(b[offOriginalSize:])
	h.CurrentSize = le.Uint64(b[offCurrentSize:])
	h.Checksum = le.Uint32(b[offHeaderChecksum:])
	h.EOLLocation = le.Uint64(b[offEOL:])
	h.ErrorCode = int32(le.Uint32(b[offErrorCode:]))
	h.MetadataSize = le.Uint32(b[offMetadataSize:])
	copy(h.UniqueID[:], b[offUniqueID:])
	copy(h.PreviousUniqueID[:], b[offPreviousID:])
	h.LastModifiedTimeStamp = le.Uint32(b[offLastModified:])
	h.TotalMetadataEntries = le.Uint64(b[offTotalEntries:])
	h.FileType = le.Uint32(b[offFileType:])
	copy(h.Flags[:], b[offFlags:])
	reserved := offReservedV1
	if h.LogFormatVersion != Version1 {
		copy(h.Vhd2DataWriteGUID[:], b[offDataWriteGUID:])
		reserved = offReservedV2
	}
	h.ReservedZero = allZero(b[reserved:HeaderSize])
	return h
}

// Marshal encodes h into 4096 bytes with zero reserved bytes and a freshly
// computed Checksum (h.Checksum is ignored).
func (h Header) Marshal() []byte {
	le := binary.LittleEndian
	b := make([]byte, HeaderSize)
	copy(b[offCookie:], h.Cookie[:])
	le.PutUint32(b[offVersion:], h.LogFormatVersion)
	le.PutUint32(b[offTimeStamp:], h.TimeStamp)
	copy(b[offCreatorApp:], h.CreatorApplication[:])
	le.PutUint32(b[offCreatorVersion:], h.CreatorVersion)
	le.PutUint64(b[offOriginalSize:], h.OriginalSize)
	le.PutUint64(b[offCurrentSize:], h.CurrentSize)
	le.PutUint64(b[offEOL:], h.EOLLocation)
	le.PutUint32(b[offErrorCode:], uint32(h.ErrorCode))
	le.PutUint32(b[offMetadataSize:], h.MetadataSize)
	copy(b[offUniqueID:], h.UniqueID[:])
	copy(b[offPreviousID:], h.PreviousUniqueID[:])
	le.PutUint32(b[offLastModified:], h.LastModifiedTimeStamp)
	le.PutUint64(b[offTotalEntries:], h.TotalMetadataEntries)
	le.PutUint32(b[offFileType:], h.FileType)
	copy(b[offFlags:], h.Flags[:])
	if h.LogFormatVersion != Version1 {
		copy(b[offDataWriteGUID:], h.Vhd2DataWriteGUID[:])
	}
	le.PutUint32(b[offHeaderChecksum:], Checksum(b, offHeaderChecksum))
	return b
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// epoch is the zero of every HRL timestamp: 2000-01-01 00:00:00 UTC.
func epoch() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }

// Time converts an HRL timestamp (seconds since 2000-01-01 UTC) to a time.
func Time(ts uint32) time.Time { return epoch().Add(time.Duration(ts) * time.Second) }

// TimeStamp converts t to an HRL timestamp, clamped to the u32 range.
func TimeStamp(t time.Time) uint32 {
	s := int64(t.Sub(epoch()) / time.Second)
	return uint32(max(0, min(s, int64(^uint32(0)))))
}
