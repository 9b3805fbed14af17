package delta

import (
	"encoding/binary"
	"fmt"
)

// entry is one decoded extent table entry.
type entry struct {
	Extent
	payloadOff int64
	stored     int64
	enc        Encoding
	crc        uint64
}

// appendEntry appends the EntrySize encoding of e to b.
func appendEntry(b []byte, e *entry) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, uint64(e.Offset))
	b = le.AppendUint64(b, uint64(e.Length))
	b = le.AppendUint64(b, uint64(e.payloadOff))
	b = le.AppendUint32(b, uint32(e.stored))
	b = append(b, byte(e.Kind), byte(e.enc), 0, 0)
	return le.AppendUint64(b, e.crc)
}

// rawEntry is an entry as stored, before any range check.
type rawEntry struct {
	offset, length, payloadOff uint64
	stored                     uint32
	kind, enc                  uint8
	reserved                   uint16
	crc                        uint64
}

// parseEntry decodes EntrySize bytes.
func parseEntry(b []byte) rawEntry {
	le := binary.LittleEndian
	return rawEntry{
		offset: le.Uint64(b[0:]), length: le.Uint64(b[8:]), payloadOff: le.Uint64(b[16:]),
		stored: le.Uint32(b[24:]), kind: b[28], enc: b[29], reserved: le.Uint16(b[30:]),
		crc: le.Uint64(b[32:]),
	}
}

// tableCheck holds what checking entry i needs to know about entries 0..i-1.
type tableCheck struct {
	virtualSize int64
	comp        Compression
	tableOff    int64 // where the payload must end
	prevEnd     int64 // end of the previous extent on the disk
	cursor      int64 // where the next stored bytes must start
	dataBytes   int64 // sum of data extent lengths so far
}

// newTableCheck starts checking a table of an object with the given header.
func newTableCheck(hi *headerInfo, tableOff int64) tableCheck {
	return tableCheck{virtualSize: hi.VirtualSize, comp: hi.Compression, tableOff: tableOff, cursor: HeaderSize}
}

// check validates entry i, stored at object offset pos, and returns it decoded.
func (c *tableCheck) check(i, pos int64, r rawEntry) (entry, error) {
	e, err := c.checkEntry(r)
	if err != nil {
		return entry{}, fmt.Errorf("delta: table entry %d at offset %d: %w", i, pos, err)
	}
	c.prevEnd, c.cursor = e.End(), c.cursor+e.stored
	if e.Kind == Data {
		c.dataBytes += e.Length
	}
	return e, nil
}

// checkEntry checks every field of r against the entries before it.
func (c *tableCheck) checkEntry(r rawEntry) (entry, error) {
	if r.reserved != 0 {
		return entry{}, fmt.Errorf("reserved field is %#x, want 0: %w", r.reserved, ErrCorrupt)
	}
	if err := c.checkRange(r); err != nil {
		return entry{}, err
	}
	if r.payloadOff != uint64(c.cursor) {
		return entry{}, fmt.Errorf("payload offset is %d, want %d: %w", r.payloadOff, c.cursor, ErrCorrupt)
	}
	e := entry{Extent: Extent{Offset: int64(r.offset), Length: int64(r.length), Kind: ExtentKind(r.kind)},
		payloadOff: c.cursor, stored: int64(r.stored), enc: Encoding(r.enc), crc: r.crc}
	return e, c.checkStorage(&e)
}

// checkRange checks the extent's offset and length against the disk and the
// previous extent.
func (c *tableCheck) checkRange(r rawEntry) error {
	switch {
	case r.length == 0 || r.offset%SectorSize != 0 || r.length%SectorSize != 0:
		return fmt.Errorf("extent offset %d or length %d is zero or not a multiple of %d: %w", r.offset, r.length, SectorSize, ErrCorrupt)
	case r.offset < uint64(c.prevEnd):
		return fmt.Errorf("extent offset %d is below the previous extent's end %d: %w", r.offset, c.prevEnd, ErrCorrupt)
	case r.length > uint64(c.virtualSize) || r.offset > uint64(c.virtualSize)-r.length:
		return fmt.Errorf("extent offset %d length %d ends past the virtual size %d: %w", r.offset, r.length, c.virtualSize, ErrCorrupt)
	}
	return nil
}

// checkStorage checks the kind, encoding, stored length and checksum fields.
func (c *tableCheck) checkStorage(e *entry) error {
	switch e.Kind {
	case Zero:
		if e.stored != 0 || e.enc != Raw || e.crc != 0 {
			return fmt.Errorf("zero extent has stored length %d, encoding %d, crc %#x, want all 0: %w", e.stored, e.enc, e.crc, ErrCorrupt)
		}
		return nil
	case Data:
	default:
		return fmt.Errorf("extent kind is %d: %w", e.Kind, ErrUnsupported)
	}
	if e.Length > MaxChunk {
		return fmt.Errorf("data extent length %d is above %d: %w", e.Length, MaxChunk, ErrTooLarge)
	}
	if err := c.checkEncoding(e); err != nil {
		return err
	}
	if e.stored > c.tableOff-c.cursor {
		return fmt.Errorf("stored length %d runs past the payload end %d: %w", e.stored, c.tableOff, ErrCorrupt)
	}
	return nil
}

// checkEncoding checks a data extent's encoding against its stored length.
func (c *tableCheck) checkEncoding(e *entry) error {
	switch {
	case e.enc == Raw && e.stored != e.Length:
		return fmt.Errorf("raw extent stored length %d is not its length %d: %w", e.stored, e.Length, ErrCorrupt)
	case e.enc == Zstd && c.comp&CompressionZstd == 0:
		return fmt.Errorf("zstd extent but the header declares no zstd: %w", ErrCorrupt)
	case e.enc == Zstd && (e.stored == 0 || e.stored >= e.Length):
		return fmt.Errorf("zstd extent stored length %d is not in 1..%d: %w", e.stored, e.Length-1, ErrCorrupt)
	case e.enc != Raw && e.enc != Zstd:
		return fmt.Errorf("encoding is %d: %w", e.enc, ErrUnsupported)
	}
	return nil
}
