package vhdx

import (
	"hvmigrate/shared/vdisk"
)

// logDesc is one log descriptor with, for data descriptors, the 4 KiB
// sector it writes.
type logDesc struct {
	zero    bool
	off     int64  // target file offset, 4 KiB aligned
	zeroLen int64  // zero descriptors
	sector  []byte // data descriptors: the reassembled 4 KiB
}

// logEntry is one decoded, valid log entry.
type logEntry struct {
	pos     int64 // offset from the log start
	length  int64
	tail    int64
	seq     uint64
	flushed int64
	last    int64
	descs   []logDesc
}

// entryBytes returns length bytes of the circular log starting at pos.
func entryBytes(log []byte, pos, length int64) []byte {
	if pos+length <= int64(len(log)) {
		return log[pos : pos+length]
	}
	b := make([]byte, 0, length)
	b = append(b, log[pos:]...)
	return append(b, log[:length-(int64(len(log))-pos)]...)
}

// parseLogEntry decodes and checks the entry at pos of the log buffer.
func parseLogEntry(log []byte, pos int64, guid vdisk.GUID) (*logEntry, error) {
	h := log[pos:]
	if len(h) < 64 || string(h[0:4]) != sigLogEntry {
		return nil, errf(ErrCorrupt, "log entry at 0x%x: no signature", pos)
	}
	e := &logEntry{pos: pos, length: int64(u32(h[8:])), tail: int64(u32(h[12:])), seq: u64(h[16:]),
		flushed: int64(u64(h[48:])), last: int64(u64(h[56:]))}
	count := int64(u32(h[24:]))
	switch {
	case e.length == 0 || e.length%logSector != 0 || e.length > int64(len(log)):
		return nil, errf(ErrCorrupt, "log entry at 0x%x: length 0x%x invalid", pos, e.length)
	case e.tail%logSector != 0 || e.tail >= int64(len(log)):
		return nil, errf(ErrCorrupt, "log entry at 0x%x: tail 0x%x invalid", pos, e.tail)
	case e.seq == 0:
		return nil, errf(ErrCorrupt, "log entry at 0x%x: sequence number 0", pos)
	case getGUID(h[32:]) != guid:
		return nil, errf(ErrCorrupt, "log entry at 0x%x: log GUID does not match the header", pos)
	case e.flushed < 0 || e.last < 0 || e.flushed > maxFileSize || e.last > maxFileSize:
		return nil, errf(ErrCorrupt, "log entry at 0x%x: file offsets out of range", pos)
	}
	descSectors := (count + 2 + 127) / 128
	if descSectors*logSector > e.length {
		return nil, errf(ErrCorrupt, "log entry at 0x%x: %d descriptors do not fit in 0x%x bytes", pos, count, e.length)
	}
	b := entryBytes(log, pos, e.length)
	if !checkCRC(b, 4) {
		return nil, errf(ErrBadChecksum, "log entry at 0x%x: checksum does not match", pos)
	}
	if err := e.parseDescs(b, count, descSectors); err != nil {
		return nil, within(sprintf("log entry at 0x%x", pos), err)
	}
	return e, nil
}

// parseDescs decodes count descriptors and their data sectors from b.
func (e *logEntry) parseDescs(b []byte, count, descSectors int64) error {
	dataAt := descSectors * logSector
	e.descs = make([]logDesc, 0, min(count, e.length/32))
	for i := range count {
		d := b[64+32*i:]
		if u64(d[24:]) != e.seq {
			return errf(ErrCorrupt, "descriptor %d: sequence number mismatch", i)
		}
		ld := logDesc{off: int64(u64(d[16:]))}
		switch string(d[0:4]) {
		case sigZeroDesc:
			ld.zero, ld.zeroLen = true, int64(u64(d[8:]))
			if ld.zeroLen%logSector != 0 || ld.zeroLen < 0 || ld.zeroLen > maxFileSize {
				return errf(ErrCorrupt, "descriptor %d: zero length 0x%x invalid", i, ld.zeroLen)
			}
		case sigDataDesc:
			if dataAt+logSector > e.length {
				return errf(ErrCorrupt, "descriptor %d: data sector beyond the entry", i)
			}
			sec, err := dataSector(b[dataAt:dataAt+logSector], d, e.seq)
			if err != nil {
				return within(sprintf("descriptor %d", i), err)
			}
			ld.sector, dataAt = sec, dataAt+logSector
		default:
			return errf(ErrCorrupt, "descriptor %d: signature %q unknown", i, d[0:4])
		}
		if ld.off%logSector != 0 || ld.off < 0 || ld.off > maxFileSize {
			return errf(ErrCorrupt, "descriptor %d: file offset 0x%x invalid", i, ld.off)
		}
		e.descs = append(e.descs, ld)
	}
	return nil
}

// dataSector checks a data sector and reassembles the 4 KiB it writes.
func dataSector(s, desc []byte, seq uint64) ([]byte, error) {
	if string(s[0:4]) != sigData {
		return nil, errf(ErrCorrupt, "data sector: signature %q not %q", s[0:4], sigData)
	}
	if u32(s[4:]) != uint32(seq>>32) || u32(s[4092:]) != uint32(seq) {
		return nil, errf(ErrCorrupt, "data sector: sequence number mismatch")
	}
	out := make([]byte, logSector)
	copy(out[0:8], desc[8:16])
	copy(out[8:4092], s[8:4092])
	copy(out[4092:], desc[4:8])
	return out, nil
}

// encodeLogEntry renders an entry with data descriptors for the given 4 KiB
// sectors (offset → content), in the order of offs.
func encodeLogEntry(guid vdisk.GUID, seq uint64, offs []int64, secs map[int64][]byte, flushed, last int64) []byte {
	n := int64(len(offs))
	descSectors := (n + 2 + 127) / 128
	b := make([]byte, (descSectors+n)*logSector)
	copy(b, sigLogEntry)
	put32(b[8:], uint32(len(b)))
	put64(b[16:], seq)
	put32(b[24:], uint32(n))
	putGUID(b[32:], guid)
	put64(b[48:], uint64(flushed))
	put64(b[56:], uint64(last))
	for i, off := range offs {
		d, s, sec := b[64+32*i:], b[(descSectors+int64(i))*logSector:], secs[off]
		copy(d, sigDataDesc)
		copy(d[4:8], sec[4092:])
		copy(d[8:16], sec[0:8])
		put64(d[16:], uint64(off))
		put64(d[24:], seq)
		copy(s, sigData)
		put32(s[4:], uint32(seq>>32))
		copy(s[8:4092], sec[8:4092])
		put32(s[4092:], uint32(seq))
	}
	putCRC(b, 4)
	return b
}
