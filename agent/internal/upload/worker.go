package upload

import (
	"context"
	"fmt"
	"io"

	"hvmigrate/agent/internal/blob"
)

// worker copies chunks with its own buffer.
type worker struct {
	c    *Copy
	size int64
	buf  []byte
	zero []byte
}

func newWorker(c *Copy, size int64) *worker {
	return &worker{c: c, size: size, buf: make([]byte, size), zero: make([]byte, sector)}
}

// copy reads the chunk's data extents, finds the non-zero ranges, writes
// each with one Put Page, and records in the journal a chunk that wrote.
func (w *worker) copy(ctx context.Context, ch chunk) error {
	base := ch.Index * w.size
	var sent int64
	for _, e := range ch.Data {
		part := w.buf[e.Offset-base : e.End()-base]
		if _, err := w.c.Image.ReadAt(part, e.Offset); err != nil && err != io.EOF {
			return fmt.Errorf("%w: read disk at %d: %w", ErrSource, e.Offset, err)
		}
		w.c.Prog.Read.Add(e.Length)
		for _, s := range dataSpans(part, w.c.Config.MinZeroGap, w.zero) {
			body := part[s.Off : s.Off+s.Len]
			if err := w.c.Store.WritePages(ctx, w.c.Blob, e.Offset+int64(s.Off), blob.NewPayload(body)); err != nil {
				return fmt.Errorf("write pages at %d: %w", e.Offset+int64(s.Off), err)
			}
			w.c.Prog.Sent.Add(int64(s.Len))
			sent += int64(s.Len)
		}
	}
	// A chunk that sent nothing leaves the new blob's zeros as they are: a
	// restart scans it again and still sends nothing, so only chunks that
	// wrote pages cost a journal commit (and its fsync).
	if sent > 0 {
		if err := w.c.Journal.MarkChunk(ch.Index); err != nil {
			return fmt.Errorf("record chunk %d: %w", ch.Index, err)
		}
	}
	n := dataBytes(ch.Data)
	w.c.Prog.Skipped.Add(n - sent)
	w.c.Prog.Done.Add(n)
	return nil
}
