package diskcmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"hvmigrate/shared/vdisk"
)

// Cat writes the virtual disk to w as raw bytes. Zero extents are never
// read. When w is a regular file, Cat writes from w's current offset,
// leaves holes for zero extents and all-zero chunks (truncating the file
// there first, so no old bytes survive), and ends with the offset after the
// disk; otherwise it streams, writing zeros for zero extents.
func Cat(ctx context.Context, img vdisk.Image, w io.Writer, o Options) error {
	if f, ok := w.(*os.File); ok && isRegular(f) {
		return catSparse(ctx, img, f, o)
	}
	zeros := make([]byte, min(o.normalized().ChunkSize, 1<<20))
	return pump(ctx, img, o, nil, func(c *chunk) error {
		if c.err != nil {
			return c.err
		}
		if c.kind == vdisk.KindData {
			_, err := w.Write(c.buf[:c.n])
			return err
		}
		return writeZeros(w, zeros, c.n)
	})
}

func isRegular(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

func writeZeros(w io.Writer, zeros []byte, n int64) error {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// catSparse writes non-zero data chunks with WriteAt and leaves the rest
// as holes.
func catSparse(ctx context.Context, img vdisk.Image, f *os.File, o Options) error {
	base, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	// Cut old bytes past base only when there are some: on ext4, shrinking
	// a file to zero (even an empty one) marks it for a flush of every
	// dirty page at close, which doubled the time of a cat into a new file.
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("output: %w", err)
	}
	if fi.Size() > base {
		if err := f.Truncate(base); err != nil {
			return fmt.Errorf("output: %w", err)
		}
	}
	if err := f.Truncate(base + img.Size()); err != nil {
		return fmt.Errorf("output: %w", err)
	}
	// The zero test runs in the readers; the writes stay in one goroutine:
	// parallel writes to one file contend for its lock and were slower.
	zeros := make([]byte, 64<<10) // small enough to stay in cache
	markZero := func(c *chunk) { c.zero = isZero(c.buf[:c.n], zeros) }
	err = pump(ctx, img, o, markZero, func(c *chunk) error {
		if c.err != nil {
			return c.err
		}
		if c.kind != vdisk.KindData || c.zero {
			return nil
		}
		if _, err := f.WriteAt(c.buf[:c.n], base+c.off); err != nil {
			return fmt.Errorf("output: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = f.Seek(base+img.Size(), io.SeekStart)
	return err
}

// isZero reports whether b holds only zero bytes, comparing it piece by
// piece with zeros, a buffer of zero bytes.
func isZero(b, zeros []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
