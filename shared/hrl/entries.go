package hrl

import (
	"fmt"
	"iter"
	"math"
)

// Entry is one logged write in replay order, located in the file.
type Entry struct {
	Record
	// Block is the index of the metadata block, oldest first.
	Block int `json:"block"`
	// Slot is the entry's slot in its block.
	Slot int `json:"slot"`
	// FileOffset is where the entry's DataLength data bytes start in the
	// log file (the contiguity rule).
	FileOffset int64 `json:"file_offset"`
}

// DiskOffset is ByteOffset as an int64; the reader guarantees that
// ByteOffset+DataLength fits.
func (e Entry) DiskOffset() int64 { return int64(e.ByteOffset) }

// Length is DataLength as an int64.
func (e Entry) Length() int64 { return int64(e.DataLength) }

// Block describes one metadata block.
type Block struct {
	Index int `json:"index"`
	// Offset is the block's file offset.
	Offset int64 `json:"offset"`
	// DataStart is where the data of the block's entries begins; it ends
	// at Offset.
	DataStart    int64 `json:"data_start"`
	ValidEntries int   `json:"valid_entries"`
}

// Blocks returns the metadata blocks in replay order (oldest first).
func (l *Log) Blocks() []Block {
	out := make([]Block, len(l.blocks))
	for i, b := range l.blocks {
		out[i] = Block{Index: i, Offset: b.off, DataStart: l.dataStart(i), ValidEntries: int(b.count)}
	}
	return out
}

// Entries yields every entry in replay order: block order, then slot
// order. Timestamps never decide order. The metadata is read again and
// re-validated, so a file changed since NewReader yields an error, which
// ends the iteration.
func (l *Log) Entries() iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		buf := make([]byte, l.hdr.MetadataSize)
		for i := range l.blocks {
			stopped := false
			err := l.scanBlock(i, buf, false, func(e Entry) bool {
				stopped = !yield(e, nil)
				return !stopped
			})
			if err != nil {
				yield(Entry{}, fmt.Errorf("%s: %w", l.opts.Name, err))
				return
			}
			if stopped {
				return
			}
		}
	}
}

// scanBlock reads block i, validates its entries and their contiguity and
// passes them to fn until fn returns false.
func (l *Log) scanBlock(i int, buf []byte, warn bool, fn func(Entry) bool) error {
	mh, err := l.readBlock(i, buf, warn)
	if err != nil {
		return err
	}
	m := l.blocks[i].off
	if mh.ValidMetadataEntries != l.blocks[i].count {
		return fieldError(ErrBrokenChain, "metadata header", m, "ValidMetadataEntries",
			"changed from %d to %d while reading", l.blocks[i].count, mh.ValidMetadataEntries)
	}
	entries, err := l.checkBlockEntries(i, buf, mh.ValidMetadataEntries, warn)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !fn(e) {
			return nil
		}
	}
	return nil
}

// checkBlockEntries decodes and validates the valid slots of block i and
// proves that their data exactly fills [dataStart, block offset) (M6).
func (l *Log) checkBlockEntries(i int, buf []byte, n uint32, warn bool) ([]Entry, error) {
	m := l.blocks[i].off
	pos := l.dataStart(i)
	entries := make([]Entry, 0, n)
	for slot := range int(n) {
		off := m + MetadataHeaderSize + int64(slot)*EntrySize
		rec, err := ParseRecord(buf[MetadataHeaderSize+slot*EntrySize:], off, l.opts.EntryChecksum)
		if err != nil {
			return nil, err
		}
		if err := l.checkRecord(rec, off, warn); err != nil {
			return nil, err
		}
		if int64(rec.DataLength) > m-pos {
			return nil, fieldError(ErrNotContiguous, "metadata entry", off, "DataLength",
				"%d bytes from file offset %d run past the metadata block at %d", rec.DataLength, pos, m)
		}
		entries = append(entries, Entry{Record: rec, Block: i, Slot: slot, FileOffset: pos})
		pos += int64(rec.DataLength)
	}
	if pos != m {
		return nil, fieldError(ErrNotContiguous, "metadata header", m, "ValidMetadataEntries",
			"the %d entries' data ends at %d, want the block offset %d (gap of %d bytes)", n, pos, m, m-pos)
	}
	return entries, nil
}

// checkRecord runs the per-entry checks that need the options (E3, E4)
// and records warnings (E5, E7, F2).
func (l *Log) checkRecord(r Record, off int64, warn bool) error {
	end := r.ByteOffset + uint64(r.DataLength)
	if end < r.ByteOffset || end > math.MaxInt64 || (l.opts.DiskSize > 0 && end > uint64(l.opts.DiskSize)) {
		return fieldError(ErrPastEnd, "metadata entry", off, "ByteOffset",
			"write [%d, +%d) ends past the disk size %d", r.ByteOffset, r.DataLength, l.opts.DiskSize)
	}
	ss := uint64(l.opts.SectorSize)
	if !l.opts.AllowUnaligned && (r.ByteOffset%ss != 0 || uint64(r.DataLength)%ss != 0) {
		return fieldError(ErrUnaligned, "metadata entry", off, "ByteOffset",
			"write [%d, +%d) is not aligned to %d-byte sectors", r.ByteOffset, r.DataLength, ss)
	}
	if warn {
		l.recordWarnings(r, off)
	}
	return nil
}

func (l *Log) recordWarnings(r Record, off int64) {
	if r.DataLength == 0 {
		l.warn("E5", "metadata entry at offset %d field DataLength: 0, treated as a no-op", off)
	}
	if r.Location != 0 || r.Reserved != [6]byte{} {
		l.warn("E7", "metadata entry at offset %d fields Location/Reserved: not zero", off)
	}
	h := l.hdr
	if r.TimeStamp < h.TimeStamp || (h.LastModifiedTimeStamp != 0 && r.TimeStamp > h.LastModifiedTimeStamp) {
		l.warn("F2", "metadata entry at offset %d field TimeStamp: %d outside the header's [%d, %d]",
			off, r.TimeStamp, h.TimeStamp, h.LastModifiedTimeStamp)
	}
}
