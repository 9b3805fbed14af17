package delta

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// newEncoder returns a zstd encoder tuned for low CPU: fastest level, one
// goroutine, no frame checksum (the extent CRC-64 covers the bytes), and
// single-segment frames, whose window is their declared content size.
func newEncoder() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(false),
		zstd.WithWindowSize(MaxChunk),
		zstd.WithSingleSegment(true),
	)
}

// pays reports whether a compressed size is worth storing: it must save at
// least one eighth of the raw size.
func pays(raw, compressed int) bool {
	return compressed <= raw-raw/8
}

// newDecoder returns a synchronous zstd decoder that refuses windows and
// outputs larger than an extent.
func newDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(MaxChunk),
		zstd.WithDecoderMaxMemory(MaxChunk),
	)
}

// decodeExact decompresses src into dst. src must be exactly one
// single-segment zstd frame without dictionary declaring len(dst) content
// bytes, so the decoder's window is at most len(dst) and it never produces
// more than len(dst) bytes: a frame that would expand further fails.
func decodeExact(dec *zstd.Decoder, src, dst []byte) error {
	if err := checkFrame(src, len(dst)); err != nil {
		return err
	}
	if err := dec.Reset(bytes.NewReader(src)); err != nil {
		return fmt.Errorf("zstd reset: %w: %w", ErrCorrupt, err)
	}
	if _, err := io.ReadFull(dec, dst); err != nil {
		return fmt.Errorf("zstd decode: %w: %w", ErrCorrupt, err)
	}
	var probe [1]byte
	if n, err := dec.Read(probe[:]); n != 0 || err != io.EOF {
		return fmt.Errorf("zstd frame yields more than %d bytes: %w", len(dst), ErrCorrupt)
	}
	return nil
}

// checkFrame checks the frame header of src against the extent length and
// that the frame, walked block by block, ends exactly at the end of src.
func checkFrame(src []byte, length int) error {
	var h zstd.Header
	if err := h.Decode(src); err != nil {
		return fmt.Errorf("zstd frame header: %w: %w", ErrCorrupt, err)
	}
	switch {
	case h.Skippable || !h.SingleSegment || h.DictionaryID != 0:
		return fmt.Errorf("zstd frame is skippable, multi-segment or needs a dictionary: %w", ErrCorrupt)
	case !h.HasFCS || h.FrameContentSize != uint64(length):
		return fmt.Errorf("zstd frame content size %d (present %t), want %d: %w", h.FrameContentSize, h.HasFCS, length, ErrCorrupt)
	}
	end, err := frameEnd(src, h.HeaderSize, h.HasCheckSum)
	if err != nil {
		return err
	}
	if end != len(src) {
		return fmt.Errorf("zstd frame ends at %d of %d stored bytes: %w", end, len(src), ErrCorrupt)
	}
	return nil
}

// frameEnd walks the block headers after a frame header of hdrSize bytes
// and returns where the frame ends, without decompressing anything.
func frameEnd(src []byte, hdrSize int, checksum bool) (int, error) {
	pos := hdrSize
	for last := false; !last; {
		if len(src)-pos < 3 {
			return 0, fmt.Errorf("zstd block header at %d is truncated: %w", pos, ErrCorrupt)
		}
		bh := int(src[pos]) | int(src[pos+1])<<8 | int(src[pos+2])<<16
		pos += 3
		size := bh >> 3
		last = bh&1 != 0
		switch (bh >> 1) & 3 {
		case 1: // RLE: one byte repeated
			size = 1
		case 3:
			return 0, fmt.Errorf("zstd block at %d has the reserved type: %w", pos-3, ErrCorrupt)
		}
		if size > len(src)-pos {
			return 0, fmt.Errorf("zstd block at %d of %d bytes is truncated: %w", pos-3, size, ErrCorrupt)
		}
		pos += size
	}
	if checksum {
		pos += 4
	}
	return pos, nil
}
