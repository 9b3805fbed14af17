package diskcmd

import (
	"context"
	"fmt"

	"hvmigrate/shared/vdisk"
)

// produce walks the extents, checks that they tile the disk, and queues
// chunks: data chunks take a free buffer and go to the readers too.
func produce(ctx context.Context, img vdisk.Image, o Options, free chan []byte, queue, jobs chan<- *chunk) error {
	var next int64
	for e, err := range img.Extents() {
		if err != nil {
			return fmt.Errorf("extents: %w", err)
		}
		if err := checkExtent(e, next, img.Size()); err != nil {
			return err
		}
		next = e.End()
		if err := queueExtent(ctx, e, int64(o.ChunkSize), free, queue, jobs); err != nil {
			return err
		}
	}
	if next != img.Size() {
		return fmt.Errorf("extent map: extents end at %d, the disk is %d bytes", next, img.Size())
	}
	return nil
}

// checkExtent rejects an extent that does not continue the tiling at next.
func checkExtent(e vdisk.Extent, next, size int64) error {
	switch {
	case e.Offset != next:
		return fmt.Errorf("extent map: extent at %d, expected one at %d", e.Offset, next)
	case e.Length <= 0 || e.End() > size:
		return fmt.Errorf("extent map: extent [%d, +%d) is empty or beyond the disk size %d", e.Offset, e.Length, size)
	case e.Kind != vdisk.KindData && e.Kind != vdisk.KindZero:
		return fmt.Errorf("extent map: extent at %d has unknown kind %d", e.Offset, e.Kind)
	}
	return nil
}

// queueExtent queues a zero extent as one chunk, and a data extent split
// at multiples of the chunk size.
func queueExtent(ctx context.Context, e vdisk.Extent, size int64, free chan []byte, queue, jobs chan<- *chunk) error {
	if e.Kind == vdisk.KindZero {
		c := &chunk{off: e.Offset, n: e.Length, kind: e.Kind, done: make(chan struct{})}
		close(c.done)
		return send(ctx, queue, c)
	}
	for off := e.Offset; off < e.End(); {
		n := min(e.End(), (off/size+1)*size) - off
		c := &chunk{off: off, n: n, kind: e.Kind, done: make(chan struct{})}
		select {
		case c.buf = <-free:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := send(ctx, queue, c); err != nil {
			return err
		}
		if err := send(ctx, jobs, c); err != nil {
			return err
		}
		off += n
	}
	return nil
}

func send(ctx context.Context, ch chan<- *chunk, c *chunk) error {
	select {
	case ch <- c:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
