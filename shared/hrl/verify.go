package hrl

import (
	"fmt"
	"io"
	"runtime"
	"sync"
)

// verifyWindow is how much of the file Verify reads per call.
const verifyWindow = 1 << 20

// Verify reads the data of every entry and checks it against DataChecksum
// (E6). A DataChecksum of 0 on at most 16 MiB of data means "not recorded"
// (a real checksum of so few bytes cannot be 0) and is skipped. The data is
// read once, front to back in large windows, by up to verifyWorkers
// goroutines that each take a contiguous run of blocks. The error reported
// is the first in replay order.
func (l *Log) Verify() error {
	ranges := l.splitBlocks(min(runtime.GOMAXPROCS(0), verifyWorkers))
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for i, r := range ranges {
		wg.Go(func() { errs[i] = l.verifyBlocks(r[0], r[1]) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("%s: %w", l.opts.Name, err)
		}
	}
	return nil
}

const verifyWorkers = 4

// splitBlocks cuts the block list into at most n runs of about equal data.
func (l *Log) splitBlocks(n int) [][2]int {
	per := l.logged/int64(max(n, 1)) + 1
	var out [][2]int
	from, acc := 0, int64(0)
	for i, b := range l.blocks {
		acc += b.off - l.dataStart(i)
		if acc >= per || i == len(l.blocks)-1 {
			out = append(out, [2]int{from, i + 1})
			from, acc = i+1, 0
		}
	}
	return out
}

// verifyBlocks checks the data of blocks [from, to).
func (l *Log) verifyBlocks(from, to int) error {
	w := window{r: l.r, size: l.size, buf: make([]byte, 0, verifyWindow)}
	meta := make([]byte, l.hdr.MetadataSize)
	for i := from; i < to; i++ {
		var verr error
		err := l.scanBlock(i, meta, false, func(e Entry) bool {
			verr = l.verifyEntry(&w, e)
			return verr == nil
		})
		if err != nil {
			return err
		}
		if verr != nil {
			return verr
		}
	}
	return nil
}

func (l *Log) verifyEntry(w *window, e Entry) error {
	if e.DataChecksum == 0 && e.DataLength <= noDataChecksumSize {
		return nil
	}
	var sum dataSum
	for pos, end := e.FileOffset, e.FileOffset+e.Length(); pos < end; {
		b, err := w.slice(pos, end-pos)
		if err != nil {
			return err
		}
		sum.add(b)
		pos += int64(len(b))
	}
	if got := sum.checksum(); got != e.DataChecksum {
		off := l.blocks[e.Block].off + MetadataHeaderSize + int64(e.Slot)*EntrySize
		return fieldError(ErrChecksum, "metadata entry", off, "DataChecksum",
			"stored %#08x, data at file offset %d (%d bytes) sums to %#08x", e.DataChecksum, e.FileOffset, e.DataLength, got)
	}
	return nil
}

// window serves forward reads of a file from one large buffer.
type window struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	off  int64 // file offset of buf[0]
}

// slice returns up to n bytes at pos, reading a new window when pos is not
// inside the current one.
func (w *window) slice(pos, n int64) ([]byte, error) {
	if pos < w.off || pos >= w.off+int64(len(w.buf)) {
		if err := w.fill(pos); err != nil {
			return nil, err
		}
	}
	b := w.buf[pos-w.off:]
	return b[:min(int64(len(b)), n)], nil
}

func (w *window) fill(pos int64) error {
	n := min(int64(cap(w.buf)), w.size-pos)
	if n <= 0 {
		return fmt.Errorf("data at offset %d: past the end of the file: %w", pos, ErrTruncated)
	}
	w.buf = w.buf[:n]
	got, err := w.r.ReadAt(w.buf, pos)
	if int64(got) < n {
		w.buf = w.buf[:0]
		if err == nil || err == io.EOF {
			err = ErrTruncated
		}
		return fmt.Errorf("read data at offset %d: %w", pos, err)
	}
	w.off = pos
	return nil
}

// Data returns a reader over the data of e.
func (l *Log) Data(e Entry) *io.SectionReader {
	return io.NewSectionReader(l.r, e.FileOffset, e.Length())
}
