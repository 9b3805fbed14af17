// Package chunkhash hashes a disk in fixed-size chunks: SHA-256 of each
// chunk's bytes, or an empty string for a chunk that holds no allocated
// data (it reads as zeros, and is not read). The hub compares these with
// the replica before it migrates a VM, and a resync sends only the chunks
// whose hashes differ.
package chunkhash

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"hvmigrate/shared/vdisk"
)

// Chunk sizes: powers of two in this range.
const (
	MinChunk = 64 << 10
	MaxChunk = 64 << 20
)

// Batch is how many hashes one emit call carries at most.
const Batch = 4096

// ErrChunkSize means the chunk size is not a power of two in range.
var ErrChunkSize = errors.New("chunk size must be a power of two from 64 KiB to 64 MiB")

// Hash hashes img in chunks of size bytes and calls emit with consecutive
// batches of hashes, in order, the first starting at chunk 0.
func Hash(ctx context.Context, img vdisk.Image, size int64, emit func(first int64, hashes []string) error) error {
	if size < MinChunk || size > MaxChunk || size&(size-1) != 0 {
		return fmt.Errorf("%w: %d", ErrChunkSize, size)
	}
	h := &hasher{img: img, size: size, buf: make([]byte, size), emit: emit}
	for e, err := range img.Extents() {
		if err != nil {
			return fmt.Errorf("list extents: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := h.extent(e); err != nil {
			return err
		}
	}
	return h.finish()
}

// hasher walks the extents in order. A chunk is settled once the walk has
// passed it: hashed if a data extent touched it (chunks are settled in
// order and dataIn, the last chunk a data extent reached, only grows, so
// c <= dataIn says so), marked zero otherwise.
type hasher struct {
	img     vdisk.Image
	size    int64
	buf     []byte
	emit    func(int64, []string) error
	next    int64 // first chunk not yet hashed
	dataIn  int64 // last chunk known to hold data, -1 if none pending
	pending []string
	first   int64
	started bool
}

func (h *hasher) extent(e vdisk.Extent) error {
	if !h.started {
		h.dataIn, h.started = -1, true
	}
	// Every chunk wholly before this extent is settled.
	if err := h.settleBefore(e.Offset / h.size); err != nil {
		return err
	}
	if e.Kind == vdisk.KindData && e.Length > 0 {
		h.dataIn = (e.End() - 1) / h.size
		// Chunks wholly inside the data extent, before its last chunk,
		// are settled as data now.
		if err := h.settleBefore(h.dataIn); err != nil {
			return err
		}
	}
	return nil
}

// settleBefore hashes (or marks zero) every chunk before chunk c.
func (h *hasher) settleBefore(c int64) error {
	for ; h.next < c; h.next++ {
		if err := h.settle(h.next); err != nil {
			return err
		}
	}
	return nil
}

func (h *hasher) settle(c int64) error {
	sum := ""
	if c <= h.dataIn {
		var err error
		if sum, err = h.hashChunk(c); err != nil {
			return err
		}
	}
	h.pending = append(h.pending, sum)
	if len(h.pending) == Batch {
		return h.flush()
	}
	return nil
}

func (h *hasher) hashChunk(c int64) (string, error) {
	off := c * h.size
	n := min(h.size, h.img.Size()-off)
	p := h.buf[:n]
	if _, err := h.img.ReadAt(p, off); err != nil && err != io.EOF {
		return "", fmt.Errorf("read chunk %d at %d: %w", c, off, err)
	}
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:]), nil
}

func (h *hasher) flush() error {
	if len(h.pending) == 0 {
		return nil
	}
	err := h.emit(h.first, h.pending)
	h.first += int64(len(h.pending))
	h.pending = h.pending[:0:0]
	return err
}

// finish settles the chunks up to the end of the disk and emits the rest.
func (h *hasher) finish() error {
	if !h.started {
		h.dataIn = -1
	}
	chunks := (h.img.Size() + h.size - 1) / h.size
	if err := h.settleBefore(chunks); err != nil {
		return err
	}
	return h.flush()
}
