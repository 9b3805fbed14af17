package vhdx

import (
	"fmt"
	"os"
	"sort"

	"hvmigrate/shared/vdisk"
)

// commit makes ch part of the file: sync the data written so far, write a
// log entry holding the changed sectors at the start of the log, sync,
// then write the sectors in place. The in-place writes become durable with
// the next sync (the first step of the next commit, Flush or Close), which
// always precedes the next overwrite of the log entry. Changes too large
// for one entry are split; bitmap sectors go before BAT sectors so a BAT
// entry never names bits that are not yet set.
func (w *Writer) commit(ch changes) error {
	if len(ch) == 0 {
		return nil
	}
	offs := make([]int64, 0, len(ch))
	for off := range ch {
		offs = append(offs, off)
	}
	inBAT := func(off int64) bool { return off >= w.l.bat.off && off < w.l.bat.off+w.l.bat.length }
	sort.Slice(offs, func(i, j int) bool {
		if a, b := inBAT(offs[i]), inBAT(offs[j]); a != b {
			return b
		}
		return offs[i] < offs[j]
	})
	per := maxSectorsPerEntry(w.l.log.n)
	for len(offs) > 0 {
		n := min(len(offs), per)
		if err := w.commitEntry(offs[:n], ch); err != nil {
			return err
		}
		offs = offs[n:]
	}
	return nil
}

// maxSectorsPerEntry is how many data sectors fit in one entry of a log.
func maxSectorsPerEntry(logLen int64) int {
	total := logLen / logSector
	n := total - 1
	for n > 0 && (n+2+127)/128+n > total {
		n--
	}
	return int(n)
}

// commitEntry logs and applies one batch of sectors.
func (w *Writer) commitEntry(offs []int64, ch changes) error {
	f := w.l.src.f
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync data: %w", err)
	}
	w.logSeq++
	size := w.l.src.phys
	entry := encodeLogEntry(w.l.hdr.logGUID, w.logSeq, offs, ch, size, size)
	if _, err := f.WriteAt(entry, w.l.log.off); err != nil {
		return fmt.Errorf("write log entry: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync log: %w", err)
	}
	for _, off := range offs {
		if _, err := f.WriteAt(ch[off], off); err != nil {
			return fmt.Errorf("apply log entry: %w", err)
		}
	}
	return nil
}

// replayIntoFile replays an active log into the file itself and clears the
// LogGuid, as a writer must before using the file.
func replayIntoFile(path string) error {
	l, err := openLayer(path, os.O_RDWR)
	if err != nil {
		return err
	}
	defer l.close()
	if l.hdr.logGUID.IsZero() {
		return nil
	}
	if err := applyOverlay(l); err != nil {
		return withPath(path, err)
	}
	w := &Writer{l: l}
	h := l.hdr
	h.logGUID = vdisk.GUID{}
	return withPath(path, w.writeHeader(h))
}

// applyOverlay writes the replayed sectors and zero ranges into the file,
// extends it to the replayed size and syncs it.
func applyOverlay(l *layer) error {
	ov, f := l.src.ov, l.src.f
	if ov == nil {
		return nil
	}
	zero := make([]byte, miB)
	for _, z := range ov.zeros {
		for off := z.off; off < z.off+z.n; {
			n := min(z.off+z.n-off, miB)
			if _, err := f.WriteAt(zero[:n], off); err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			off += n
		}
	}
	for _, k := range ov.keys {
		if _, err := f.WriteAt(ov.sectors[k], k); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	if l.src.phys < ov.end {
		if err := f.Truncate(alignUp(ov.end, miB)); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
	}
	return f.Sync()
}
