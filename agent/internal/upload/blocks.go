package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/storeerr"
)

// BlockStore is what an object upload needs of storage.
type BlockStore interface {
	StageBlock(ctx context.Context, name, id string, p blob.Payload) error
	CommitBlocks(ctx context.Context, name string, ids []string) error
}

// BlockJournal records durably which blocks of an object were staged, with
// the CRC-64 of their bytes, so a restarted upload stages only the rest,
// and whether the object was committed.
type BlockJournal interface {
	Blocks(part int) (map[int]uint64, error)
	MarkBlock(part, index int, crc uint64) error
	Committed(part int) (bool, error)
	MarkCommitted(part int) error
}

// Object uploads one block blob whose bytes a producer writes. The producer
// must write the same bytes every time it runs (the delta writer is
// deterministic), so that blocks staged before a restart can be kept: each
// block's CRC-64 is compared with the journal's before it is skipped.
// Nothing is visible under the blob's name until the single final commit.
type Object struct {
	Store     BlockStore
	Blob      string
	Part      int // the journal's key for this object within its job
	Journal   BlockJournal
	BlockSize int // at most blob.MaxStageBlock
	Threads   int
	Prog      *Progress
	Produce   func(w io.Writer) error
}

// staged is a block ready to upload.
type staged struct {
	index int
	buf   []byte
	n     int
	crc   uint64
}

// Run streams the producer's bytes into blocks, stages the ones not yet
// staged, and commits the list. It is safe to run again after any failure.
func (o *Object) Run(ctx context.Context) error {
	if o.BlockSize <= 0 || o.BlockSize > blob.MaxStageBlock || o.Threads < 1 {
		return fmt.Errorf("object upload: block size %d, threads %d out of range", o.BlockSize, o.Threads)
	}
	if committed, err := o.Journal.Committed(o.Part); err != nil || committed {
		return err
	}
	done, err := o.Journal.Blocks(o.Part)
	if err != nil {
		return fmt.Errorf("load block journal: %w", err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(o.Produce(pw)) }()
	defer pr.Close()
	ids, err := o.stageAll(ctx, pr, done)
	if err != nil {
		return err
	}
	err = o.Store.CommitBlocks(ctx, o.Blob, ids)
	if errors.Is(err, storeerr.ErrExists) {
		// Every block is ours and staged, and the name is this job's alone:
		// an earlier commit landed and its answer was lost. The SAS cannot
		// read the object back to compare; the hub verifies every object
		// (header identity and checksums) before it applies it.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("commit %d blocks: %w", len(ids), err)
	}
	return o.Journal.MarkCommitted(o.Part)
}

// stageAll cuts the stream into blocks and stages them on Threads workers,
// with Threads+1 buffers in all.
func (o *Object) stageAll(ctx context.Context, r io.Reader, done map[int]uint64) ([]string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	free := make(chan []byte, o.Threads+1)
	for range o.Threads + 1 {
		free <- make([]byte, o.BlockSize)
	}
	work := make(chan staged)
	var wg sync.WaitGroup
	for range o.Threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := o.stage(ctx, b); err != nil {
					cancel(err)
				}
				free <- b.buf
			}
		}()
	}
	ids, err := o.cut(ctx, r, done, free, work)
	close(work)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return nil, cause
	}
	if err != nil {
		return nil, err
	}
	return ids, ctx.Err()
}

// cut reads blocks from r in order and hands out the ones to stage.
func (o *Object) cut(ctx context.Context, r io.Reader, done map[int]uint64, free chan []byte, work chan<- staged) ([]string, error) {
	var ids []string
	for index := 0; ; index++ {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			b := staged{index: index, buf: buf, n: n, crc: blob.Checksum(buf[:n])}
			ids = append(ids, blockID(index))
			if crc, ok := done[index]; ok && crc == b.crc {
				free <- buf
			} else {
				select {
				case work <- b:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		} else {
			free <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return ids, nil
		}
		if err != nil {
			return nil, fmt.Errorf("produce object: %w", err)
		}
	}
}

func (o *Object) stage(ctx context.Context, b staged) error {
	p := blob.Payload{Body: bytes.NewReader(b.buf[:b.n]), Size: int64(b.n), CRC64: b.crc}
	if err := o.Store.StageBlock(ctx, o.Blob, blockID(b.index), p); err != nil {
		return fmt.Errorf("stage block %d: %w", b.index, err)
	}
	o.Prog.Sent.Add(int64(b.n))
	if err := o.Journal.MarkBlock(o.Part, b.index, b.crc); err != nil {
		return fmt.Errorf("record block %d: %w", b.index, err)
	}
	return nil
}

// blockID names block i; every ID of a blob has the same length.
func blockID(i int) string { return fmt.Sprintf("hvm-block-%08d", i) }
