package delta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestVerify_BitFlip_everyByteDetected(t *testing.T) {
	t.Parallel()
	obj := smallObject(t)
	for pos := range obj {
		bad := bytes.Clone(obj)
		bad[pos] ^= 1 << (pos % 8)
		err := Verify(bytes.NewReader(bad), int64(len(bad)))
		if err == nil {
			t.Fatalf("bit %d of byte %d flipped: Verify passed", pos%8, pos)
		}
		if !isFormatError(err) {
			t.Fatalf("byte %d: error %v wraps no sentinel", pos, err)
		}
	}
}

func TestVerify_Truncated_everyLengthRejected(t *testing.T) {
	t.Parallel()
	obj := smallObject(t)
	for n := range obj {
		if err := Verify(bytes.NewReader(obj[:n]), int64(n)); err == nil {
			t.Fatalf("object truncated to %d of %d bytes: Verify passed", n, len(obj))
		}
		// A reader told the full size but given fewer bytes must fail too.
		if err := Verify(bytes.NewReader(obj[:n]), int64(len(obj))); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("short read at %d bytes: error %v, want ErrCorrupt", n, err)
		}
	}
}

func TestApply_BitFlip_payloadCaughtByExtentCRC(t *testing.T) {
	obj := smallObject(t)
	for pos := HeaderSize; pos < HeaderSize+1024; pos += 97 {
		bad := bytes.Clone(obj)
		bad[pos] ^= 0x10
		if _, err := apply(bad); !errors.Is(err, ErrChecksum) {
			t.Fatalf("raw payload byte %d flipped: apply error %v, want ErrChecksum", pos, err)
		}
	}
}

func TestNewReader_Header_errorKinds(t *testing.T) {
	tests := []struct {
		name string
		edit func(b []byte)
		want error
	}{
		{"magic", func(b []byte) { b[0] = 'X' }, ErrBadMagic},
		{"version", func(b []byte) { b[8] = 2 }, ErrUnsupportedVersion},
		{"kind", func(b []byte) { b[10] = 9 }, ErrUnsupported},
		{"compression", func(b []byte) { b[11] = 2 }, ErrUnsupported},
		{"flags", func(b []byte) { b[12] = 1 }, ErrUnsupported},
		{"reserved", func(b []byte) { b[400] = 1 }, ErrCorrupt},
		{"unused log slot", func(b []byte) { b[hdrLogIDs+16*5] = 1 }, ErrCorrupt},
		{"log count", func(b []byte) { b[hdrLogCount] = MaxLogIDs + 1 }, ErrTooLarge},
		{"cycle order", func(b []byte) { binary.LittleEndian.PutUint64(b[56:], 7) }, ErrCorrupt},
		{"virtual size 2^63", func(b []byte) { binary.LittleEndian.PutUint64(b[64:], 1<<63) }, ErrTooLarge},
		{"virtual size unaligned", func(b []byte) { binary.LittleEndian.PutUint64(b[64:], 1000) }, ErrCorrupt},
		{"extents 2^32", func(b []byte) { binary.LittleEndian.PutUint64(b[72:], 1<<32) }, ErrTooLarge},
		{"extents beyond size", func(b []byte) { binary.LittleEndian.PutUint64(b[72:], MaxExtents) }, ErrTooLarge},
		{"extents off by one", func(b []byte) { binary.LittleEndian.PutUint64(b[72:], 4) }, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := smallObject(t)
			tt.edit(obj)
			if !errors.Is(tt.want, ErrBadMagic) && !errors.Is(tt.want, ErrUnsupportedVersion) {
				resealHeader(obj)
			}
			var err error
			alloc := allocDuring(func() { _, err = NewReader(bytes.NewReader(obj), int64(len(obj))) })
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if alloc > 1<<20 {
				t.Fatalf("allocated %d bytes rejecting the header", alloc)
			}
		})
	}
}

func TestNewReader_Table_errorKinds(t *testing.T) {
	vs := int64(8 << 20)
	data := entry{Extent: Extent{Offset: 0, Length: 512, Kind: Data}, payloadOff: HeaderSize, stored: 512}
	zero := entry{Extent: Extent{Offset: 1024, Length: 512, Kind: Zero}, payloadOff: HeaderSize + 512}
	tests := []struct {
		name string
		edit func(d, z *entry)
		want error
	}{
		{"unaligned offset", func(d, z *entry) { z.Offset = 1000 }, ErrCorrupt},
		{"overlap", func(d, z *entry) { z.Offset = 0 }, ErrCorrupt},
		{"past virtual size", func(d, z *entry) { z.Offset = vs }, ErrCorrupt},
		{"length 2^62", func(d, z *entry) { z.Length = 1 << 62 }, ErrCorrupt},
		{"data above 4 MiB", func(d, z *entry) { d.Length = MaxChunk + 512 }, ErrTooLarge},
		{"unknown kind", func(d, z *entry) { z.Kind = 7 }, ErrUnsupported},
		{"unknown encoding", func(d, z *entry) { d.enc = 5 }, ErrUnsupported},
		{"zero with stored bytes", func(d, z *entry) { z.stored = 1 }, ErrCorrupt},
		{"payload gap", func(d, z *entry) { z.payloadOff++ }, ErrCorrupt},
		{"zstd not smaller", func(d, z *entry) { d.enc = Zstd }, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, z := data, zero
			tt.edit(&d, &z)
			obj := assemble(testHeader(vs), 2, []entry{d, z}, make([]byte, 512), 512)
			var err error
			alloc := allocDuring(func() { _, err = NewReader(bytes.NewReader(obj), int64(len(obj))) })
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if alloc > 1<<20 {
				t.Fatalf("allocated %d bytes rejecting the table", alloc)
			}
		})
	}
}

func TestNewReader_Table_zstdNotDeclared(t *testing.T) {
	hdr := testHeader(1 << 20)
	hdr.Compression = 0
	e := entry{Extent: Extent{Offset: 0, Length: 1024, Kind: Data}, payloadOff: HeaderSize, stored: 512, enc: Zstd}
	obj := assemble(hdr, 1, []entry{e}, make([]byte, 512), 1024)
	if _, err := NewReader(bytes.NewReader(obj), int64(len(obj))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v, want ErrCorrupt", err)
	}
	hdr.Compression = CompressionZstd
	obj = assemble(hdr, 1, []entry{e}, make([]byte, 512), 1024)
	if _, err := NewReader(bytes.NewReader(obj), int64(len(obj))); err != nil {
		t.Fatalf("same table with zstd declared: %v", err)
	}
}

// isFormatError reports whether err wraps one of the package's sentinels.
func isFormatError(err error) bool {
	for _, s := range []error{ErrBadMagic, ErrUnsupportedVersion, ErrUnsupported, ErrChecksum, ErrCorrupt, ErrTooLarge} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
