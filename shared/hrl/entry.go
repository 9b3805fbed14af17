package hrl

import "encoding/binary"

// Record is one 32-byte metadata entry (_CTLOG_METADATA_ENTRY_PACKED): one
// logged write.
type Record struct {
	ByteOffset    uint64  `json:"byte_offset"`
	Checksum      uint32  `json:"checksum"`
	DataLength    uint32  `json:"data_length"`
	TimeStamp     uint32  `json:"time_stamp"`
	MetaOperation uint8   `json:"meta_operation"`
	DataChecksum  uint32  `json:"data_checksum"`
	Location      uint8   `json:"location"`
	Reserved      [6]byte `json:"-"`
}

const (
	offEByteOffset   = 0
	offEChecksum     = 8
	offEDataLength   = 12
	offETimeStamp    = 16
	offEOperation    = 20
	offEDataChecksum = 21
	offELocation     = 25
	offEReserved     = 26
)

// EntryChecksum selects which bytes the entry checksum covers.
type EntryChecksum uint8

const (
	// EntryChecksumStrict: every byte but the Checksum field, as the
	// specification states.
	EntryChecksumStrict EntryChecksum = iota
	// EntryChecksumLenient also accepts a checksum computed with
	// DataChecksum counted as zero (a writer that filled DataChecksum in
	// after computing the entry checksum).
	EntryChecksumLenient
)

func decodeRecord(b []byte) Record {
	le := binary.LittleEndian
	r := Record{
		ByteOffset:    le.Uint64(b[offEByteOffset:]),
		Checksum:      le.Uint32(b[offEChecksum:]),
		DataLength:    le.Uint32(b[offEDataLength:]),
		TimeStamp:     le.Uint32(b[offETimeStamp:]),
		MetaOperation: b[offEOperation],
		DataChecksum:  le.Uint32(b[offEDataChecksum:]),
		Location:      b[offELocation],
	}
	copy(r.Reserved[:], b[offEReserved:EntrySize])
	return r
}

// ParseRecord decodes the 32-byte entry in b, found at file offset off, and
// validates its checksum (E1) and operation (E2).
func ParseRecord(b []byte, off int64, mode EntryChecksum) (Record, error) {
	if len(b) < EntrySize {
		return Record{}, fieldError(ErrTruncated, "metadata entry", off, "ByteOffset",
			"have %d bytes, need %d", len(b), EntrySize)
	}
	b = b[:EntrySize]
	r := decodeRecord(b)
	if sum := Checksum(b, offEChecksum); sum != r.Checksum && !lenientMatch(b, r, mode) {
		return r, fieldError(ErrChecksum, "metadata entry", off, "Checksum",
			"stored %#08x, computed %#08x", r.Checksum, sum)
	}
	if r.MetaOperation != OpWrite {
		return r, fieldError(ErrOperation, "metadata entry", off+offEOperation, "MetaOperation",
			"have %d, want %d (write)", r.MetaOperation, OpWrite)
	}
	return r, nil
}

// lenientMatch reports whether, in lenient mode, the stored checksum is the
// one computed with DataChecksum also left out.
func lenientMatch(b []byte, r Record, mode EntryChecksum) bool {
	if mode != EntryChecksumLenient {
		return false
	}
	return Checksum(b, offEChecksum)+uint32(byteSum(b[offEDataChecksum:offEDataChecksum+4])) == r.Checksum
}

// Marshal encodes r into 32 bytes with a freshly computed Checksum.
func (r Record) Marshal() []byte {
	b := make([]byte, EntrySize)
	r.put(b)
	return b
}

func (r Record) put(b []byte) {
	le := binary.LittleEndian
	le.PutUint64(b[offEByteOffset:], r.ByteOffset)
	le.PutUint32(b[offEChecksum:], 0)
	le.PutUint32(b[offEDataLength:], r.DataLength)
	le.PutUint32(b[offETimeStamp:], r.TimeStamp)
	b[offEOperation] = r.MetaOperation
	le.PutUint32(b[offEDataChecksum:], r.DataChecksum)
	b[offELocation] = r.Location
	copy(b[offEReserved:EntrySize], r.Reserved[:])
	le.PutUint32(b[offEChecksum:], Checksum(b[:EntrySize], offEChecksum))
}
