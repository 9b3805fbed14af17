package vhdx

import (
	"sort"

	"hvmigrate/shared/vdisk"
)

// activeSequence finds the active sequence of the log buffer (2.6): the
// usable sequence whose head has the highest sequence number, returned
// tail first. It returns nil when the log holds no usable sequence. When the
// newest entry's sequence is broken by an entry that carries a signature but
// fails validation (a bad CRC, say), the log is corrupt, not empty: that
// entry was made durable before the newest one was written.
func activeSequence(log []byte, guid vdisk.GUID) ([]*logEntry, error) {
	valid := map[int64]*logEntry{}
	var heads []*logEntry
	for pos := int64(0); pos < int64(len(log)); pos += logSector {
		if string(log[pos:pos+4]) != sigLogEntry {
			continue
		}
		if e, err := parseLogEntry(log, pos, guid); err == nil {
			valid[pos] = e
			heads = append(heads, e)
		}
	}
	sort.Slice(heads, func(i, j int) bool { return heads[i].seq > heads[j].seq })
	for k, h := range heads {
		seq, broken := sequenceTo(valid, h, int64(len(log)))
		if seq != nil {
			return seq, nil
		}
		if k == 0 && broken >= 0 && string(log[broken:broken+4]) == sigLogEntry {
			_, err := parseLogEntry(log, broken, guid)
			return nil, errf(ErrLogReplay, "log: sequence of entry %d broken: %v", h.seq, err)
		}
	}
	return nil, nil
}

// sequenceTo walks from head's tail to head through entries laid end to end
// with sequence numbers increasing by one; if the chain breaks it returns
// nil and the position of a missing entry (or -1).
func sequenceTo(valid map[int64]*logEntry, head *logEntry, logLen int64) ([]*logEntry, int64) {
	var seq []*logEntry
	pos, used := head.tail, int64(0)
	for {
		e := valid[pos]
		if e == nil {
			return nil, pos
		}
		if len(seq) > 0 && e.seq != seq[len(seq)-1].seq+1 {
			return nil, -1
		}
		if used += e.length; used > logLen {
			return nil, -1
		}
		seq = append(seq, e)
		if e == head {
			return seq, -1
		}
		pos = (pos + e.length) % logLen
	}
}

// overlay is the in-memory result of replaying a log: 4 KiB sectors and
// zeroed ranges that take precedence over the file's bytes.
type overlay struct {
	sectors map[int64][]byte
	keys    []int64 // sorted keys of sectors
	zeros   []span
	end     int64 // file size after replay
}

// buildOverlay replays the sequence into an overlay for a file of fileSize
// bytes whose log occupies logSpan.
func buildOverlay(seq []*logEntry, fileSize int64, logSpan span) (*overlay, error) {
	head := seq[len(seq)-1]
	if head.flushed > fileSize {
		return nil, errf(ErrLogReplay, "log: flushed file offset 0x%x beyond end of file 0x%x", head.flushed, fileSize)
	}
	o := &overlay{sectors: map[int64][]byte{}, end: max(fileSize, head.last)}
	for _, e := range seq {
		for i, d := range e.descs {
			if err := o.apply(d, logSpan); err != nil {
				return nil, within(sprintf("log: entry %d: descriptor %d", e.seq, i), err)
			}
		}
	}
	if o.end > fileSize+maxLogExtension {
		return nil, errf(ErrLogReplay, "log: file size 0x%x after replay more than 0x%x beyond end of file 0x%x", o.end, maxLogExtension, fileSize)
	}
	for k := range o.sectors {
		o.keys = append(o.keys, k)
	}
	sort.Slice(o.keys, func(i, j int) bool { return o.keys[i] < o.keys[j] })
	return o, nil
}

// apply replays one descriptor.
func (o *overlay) apply(d logDesc, logSpan span) error {
	n := int64(logSector)
	if d.zero {
		n = d.zeroLen
	}
	if d.off < region1Off || (d.off < logSpan.off+logSpan.n && d.off+n > logSpan.off) {
		return errf(ErrLogReplay, "target [0x%x, +0x%x) overlaps the headers or the log", d.off, n)
	}
	o.end = max(o.end, d.off+n)
	if !d.zero {
		o.sectors[d.off] = d.sector
		return nil
	}
	for k := range o.sectors {
		if k >= d.off && k < d.off+n {
			delete(o.sectors, k)
		}
	}
	o.zeros = append(o.zeros, span{off: d.off, n: n})
	return nil
}

// patch overlays the replayed state on p, which holds the file's bytes at off.
func (o *overlay) patch(p []byte, off int64) {
	end := off + int64(len(p))
	for _, z := range o.zeros {
		lo, hi := max(off, z.off), min(end, z.off+z.n)
		if lo < hi {
			clear(p[lo-off : hi-off])
		}
	}
	i := sort.Search(len(o.keys), func(i int) bool { return o.keys[i]+logSector > off })
	for ; i < len(o.keys) && o.keys[i] < end; i++ {
		k := o.keys[i]
		lo, hi := max(off, k), min(end, k+logSector)
		copy(p[lo-off:hi-off], o.sectors[k][lo-k:hi-k])
	}
}
