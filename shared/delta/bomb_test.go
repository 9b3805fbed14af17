package delta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// zstdMaxBlock is the largest block a zstd frame may hold.
const zstdMaxBlock = 128 << 10

// bombExtent is the declared length of the extent holding a bomb.
const bombExtent = 64 << 10

// bombFrames returns zstd frames that expand far beyond a 4 KiB extent.
func bombFrames(t *testing.T) map[string][]byte {
	t.Helper()
	zeros := make([]byte, 64<<20)
	var stream bytes.Buffer
	sw, err := zstd.NewWriter(&stream, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Write(zeros); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	enc, err := newEncoder()
	if err != nil {
		t.Fatal(err)
	}
	windowed, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(false), zstd.WithWindowSize(MaxChunk))
	if err != nil {
		t.Fatal(err)
	}
	honest := enc.EncodeAll(zeros[:MaxChunk], nil)
	small := enc.EncodeAll(zeros[:bombExtent], nil)
	return map[string][]byte{
		"no content size, 64 MiB":             stream.Bytes(),
		"declares 4 MiB":                      honest,
		"single segment, 4 MiB as 64 KiB":     patchContentSize(t, honest, bombExtent),
		"4 MiB window, 4 MiB as 64 KiB":       patchContentSize(t, windowed.EncodeAll(zeros[:MaxChunk], nil), bombExtent),
		"a second frame after a 64 KiB frame": append(bytes.Clone(small), honest...),
	}
}

// patchContentSize rewrites a frame's 4-byte content size field.
func patchContentSize(t *testing.T, frame []byte, size uint32) []byte {
	t.Helper()
	f := bytes.Clone(frame)
	fhd := f[4]
	if fhd>>6 != 2 {
		t.Fatalf("frame header descriptor %#x: want a 4-byte content size", fhd)
	}
	pos := 5
	if fhd&0x20 == 0 { // no single segment flag: a window descriptor follows
		pos++
	}
	binary.LittleEndian.PutUint32(f[pos:], size)
	return f
}

// bombObject wraps a frame as the one zstd extent of an object.
func bombObject(t *testing.T, frame []byte, crc uint64) []byte {
	t.Helper()
	e := entry{Extent: Extent{Offset: 0, Length: bombExtent, Kind: Data}, payloadOff: HeaderSize,
		stored: int64(len(frame)), enc: Zstd, crc: crc}
	if e.stored >= e.Length {
		t.Fatalf("test frame of %d bytes does not fit a %d-byte extent", e.stored, e.Length)
	}
	return assemble(testHeader(1<<20), 1, []entry{e}, frame, bombExtent)
}

func TestIterator_Data_zstdBombRejected(t *testing.T) {
	// What an honest extent of the declared length costs to verify, plus one
	// zstd block (at most 128 KiB) the decoder may expand before it sees the
	// frame overrun its declared size, is the bound for a bomb.
	enc, err := newEncoder()
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("honest extent "), bombExtent/14+1)[:bombExtent]
	honest := bombObject(t, enc.EncodeAll(plain, nil), checksum(plain))
	var baseline uint64
	for range 3 {
		baseline = allocDuring(func() { err = Verify(bytes.NewReader(honest), int64(len(honest))) })
	}
	if err != nil {
		t.Fatalf("honest extent: %v", err)
	}
	for name, frame := range bombFrames(t) {
		t.Run(name, func(t *testing.T) {
			obj := bombObject(t, frame, 0)
			var err error
			alloc := allocDuring(func() { err = Verify(bytes.NewReader(obj), int64(len(obj))) })
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v, want ErrCorrupt", err)
			}
			t.Logf("allocated %d bytes (honest extent %d): %v", alloc, baseline, err)
			if alloc > baseline+zstdMaxBlock+16<<10 {
				t.Fatalf("allocated %d bytes rejecting a bomb, an honest extent takes %d", alloc, baseline)
			}
		})
	}
}
