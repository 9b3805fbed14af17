// Package upload moves disk data to storage: the initial copy of a frozen
// disk into its replica page blob, and the upload of per-cycle delta
// objects as block blobs. It works on plain Go types and small interfaces
// declared here, so it tests without gRPC and against any blob store.
package upload

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/vdisk"
)

// ErrSource marks failures to read the source disk or logs, as opposed to
// failures of storage.
var ErrSource = errors.New("source read failed")

// PageStore is what an initial copy needs of storage.
type PageStore interface {
	CreatePageBlob(ctx context.Context, name string, size int64) error
	WritePages(ctx context.Context, name string, off int64, p blob.Payload) error
}

// CopyJournal records durably which chunks of the disk storage has
// acknowledged, so that a restarted copy resends at most the chunks that
// were in flight.
type CopyJournal interface {
	// Load returns the chunk size the copy started with (0 if it never
	// started), the chunks already acknowledged, and whether the footer was
	// written.
	Load() (chunkSize int64, done map[int64]bool, footer bool, err error)
	// Begin records the chunk size of a new copy.
	Begin(chunkSize int64) error
	// MarkChunk records chunk i as acknowledged before it returns.
	MarkChunk(i int64) error
	// MarkFooter records that the footer was written.
	MarkFooter() error
}

// CopyConfig tunes an initial copy.
type CopyConfig struct {
	// Threads is the number of requests in flight, 1 to 32.
	Threads int
	// MemoryBudget caps the bytes of buffers in flight; with many threads
	// the chunk (and so the largest request) shrinks to fit it.
	MemoryBudget int64
	// MinZeroGap is the shortest run of zero sectors inside data that is
	// skipped rather than sent.
	MinZeroGap int
}

// DefaultCopyConfig holds every default of an initial copy.
func DefaultCopyConfig() CopyConfig {
	return CopyConfig{Threads: 4, MemoryBudget: 64 << 20, MinZeroGap: 64 << 10}
}

// chunkSizeFor picks the largest power-of-two chunk, at most one Put Page
// (4 MiB) and at least 256 KiB, that keeps threads+1 buffers in budget.
func (c CopyConfig) chunkSizeFor() int64 {
	size := int64(blob.MaxPutPage)
	for size > 256<<10 && size*int64(c.Threads+1) > c.MemoryBudget {
		size /= 2
	}
	return size
}

// Copy is one initial copy of a disk into a page blob.
type Copy struct {
	Image   vdisk.Image
	Store   PageStore
	Blob    string
	Footer  []byte // written last, at the end of the blob
	Journal CopyJournal
	Config  CopyConfig
	Prog    *Progress
}

// chunk is a window of the disk that one worker copies: the data extents
// that fall into [Index*size, (Index+1)*size).
type chunk struct {
	Index int64
	Data  []vdisk.Extent
}

// Run copies the disk, skipping chunks the journal already holds, and
// writes the footer last. The blob is DataSize + len(Footer) bytes.
func (c *Copy) Run(ctx context.Context) error {
	if err := c.check(); err != nil {
		return err
	}
	size, done, footerDone, err := c.Journal.Load()
	if err != nil {
		return fmt.Errorf("load copy journal: %w", err)
	}
	if size == 0 {
		size = c.Config.chunkSizeFor()
		if err := c.Journal.Begin(size); err != nil {
			return fmt.Errorf("begin copy journal: %w", err)
		}
	}
	dataSize := roundUp(c.Image.Size(), 1<<20)
	err = c.Store.CreatePageBlob(ctx, c.Blob, dataSize+int64(len(c.Footer)))
	if errors.Is(err, storeerr.ErrExists) {
		// The hub creates each replica before it grants write access to it,
		// or this copy created it in an earlier run. A write-only SAS cannot
		// read the size back to compare, and need not: the name is this
		// disk's alone, and a blob of the wrong size refuses writes past
		// its end.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("create replica blob: %w", err)
	}
	c.Prog.Total.Store(c.Image.Size())
	if err := c.copyChunks(ctx, size, done); err != nil {
		return err
	}
	if footerDone {
		return nil
	}
	if err := c.Store.WritePages(ctx, c.Blob, dataSize, blob.NewPayload(c.Footer)); err != nil {
		return fmt.Errorf("write replica footer: %w", err)
	}
	return c.Journal.MarkFooter()
}

func (c *Copy) check() error {
	switch {
	case c.Config.Threads < 1 || c.Config.Threads > 32:
		return fmt.Errorf("threads %d: want 1 to 32", c.Config.Threads)
	case len(c.Footer)%blob.PageSize != 0:
		return fmt.Errorf("footer of %d bytes is not a whole number of pages", len(c.Footer))
	case c.Image.Size()%blob.PageSize != 0:
		return fmt.Errorf("disk size %d is not a whole number of 512-byte sectors", c.Image.Size())
	}
	return nil
}

// copyChunks feeds chunks to the workers and stops at the first error.
func (c *Copy) copyChunks(ctx context.Context, size int64, done map[int64]bool) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan chunk)
	var wg sync.WaitGroup
	for range c.Config.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorker(c, size)
			for ch := range work {
				if err := w.copy(ctx, ch); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	err := c.plan(ctx, size, done, work)
	close(work)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// plan walks the extents in order and sends each chunk that holds data and
// is not yet acknowledged. Zero extents and acknowledged chunks only count.
func (c *Copy) plan(ctx context.Context, size int64, done map[int64]bool, work chan<- chunk) error {
	cur := chunk{Index: -1}
	flush := func() error {
		if cur.Index < 0 {
			return nil
		}
		if done[cur.Index] {
			c.Prog.Done.Add(dataBytes(cur.Data))
			cur = chunk{Index: -1}
			return nil
		}
		select {
		case work <- cur:
		case <-ctx.Done():
			return ctx.Err()
		}
		cur = chunk{Index: -1}
		return nil
	}
	for e, err := range c.Image.Extents() {
		if err != nil {
			return fmt.Errorf("%w: list extents: %w", ErrSource, err)
		}
		if e.Kind != vdisk.KindData {
			c.Prog.Done.Add(e.Length)
			c.Prog.Skipped.Add(e.Length)
			continue
		}
		for off := e.Offset; off < e.End(); {
			idx := off / size
			end := min(e.End(), (idx+1)*size)
			if idx != cur.Index {
				if err := flush(); err != nil {
					return err
				}
				cur.Index = idx
			}
			cur.Data = append(cur.Data, vdisk.Extent{Offset: off, Length: end - off, Kind: vdisk.KindData})
			off = end
		}
	}
	return flush()
}

func dataBytes(es []vdisk.Extent) int64 {
	var n int64
	for _, e := range es {
		n += e.Length
	}
	return n
}

func roundUp(n, to int64) int64 { return (n + to - 1) / to * to }
