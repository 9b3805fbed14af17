package hrl

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"
)

func TestNewReader_warnings_reported(t *testing.T) {
	le := binary.LittleEndian
	base, blocks := corruptBase(t)
	tests := []struct {
		check  string
		mutate func(b []byte) []byte
		opts   Options
	}{
		{"H8", func(b []byte) []byte { return smallLogs(t)[0] }, Options{}},
		{"H10", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, Options{}},
		{"H11", func(b []byte) []byte { patchHeader(b, func(h []byte) { h[3000] = 1 }); return b }, Options{}},
		{"H12", func(b []byte) []byte { patchHeader(b, func(h []byte) { le.PutUint32(h[offErrorCode:], 3) }); return b }, Options{AllowErrorCode: true}},
		{"M7", func(b []byte) []byte { patchMD(b, blocks[1].Offset, func(m []byte) { m[20] = 1 }); return b }, Options{}},
		{"E7", func(b []byte) []byte { patchEntry(b, blocks[1], 0, func(e []byte) { e[offELocation] = 1 }); return b }, Options{}},
		{"F1", func(b []byte) []byte {
			patchHeader(b, func(h []byte) { le.PutUint64(h[offTotalEntries:], 3) })
			return b
		}, Options{}},
		{"F2", func(b []byte) []byte {
			patchEntry(b, blocks[1], 0, func(e []byte) { le.PutUint32(e[offETimeStamp:], 1) })
			return b
		}, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			b := tt.mutate(base.clone().b)
			l, err := NewReader(&memFile{b: b}, int64(len(b)), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			ws, _ := l.Warnings()
			if !slices.ContainsFunc(ws, func(w Warning) bool { return w.Check == tt.check }) {
				t.Fatalf("warnings %v lack %s", ws, tt.check)
			}
		})
	}
}

func TestNewReader_zeroLengthEntry_warnsE5(t *testing.T) {
	// A zero-length entry needs no data: rebuild the example's empty first
	// block with one zero-length write.
	base, blocks := corruptBase(t)
	b := base.clone().b
	patchMD(b, blocks[0].Offset, func(m []byte) { binary.LittleEndian.PutUint32(m[offMDValid:], 1) })
	patchEntry(b, blocks[0], 0, func(e []byte) {
		copy(e, Record{MetaOperation: OpWrite, TimeStamp: binary.LittleEndian.Uint32(b[offTimeStamp:])}.Marshal())
	})
	l, err := NewReader(&memFile{b: b}, int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, _ := l.Warnings()
	if !slices.ContainsFunc(ws, func(w Warning) bool { return w.Check == "E5" }) {
		t.Fatalf("warnings %v lack E5", ws)
	}
}

func TestNewReader_lenientEntryChecksum(t *testing.T) {
	base, blocks := corruptBase(t)
	b := base.clone().b
	// Recompute entry 0 of block 2 as a writer that summed before filling
	// DataChecksum in.
	off := blocks[2].Offset + MetadataHeaderSize
	e := b[off : off+EntrySize]
	dc := binary.LittleEndian.Uint32(e[offEDataChecksum:])
	binary.LittleEndian.PutUint32(e[offEDataChecksum:], 0)
	sum := Checksum(e, offEChecksum)
	binary.LittleEndian.PutUint32(e[offEDataChecksum:], dc)
	binary.LittleEndian.PutUint32(e[offEChecksum:], sum)
	if _, err := NewReader(&memFile{b: b}, int64(len(b)), Options{}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("strict: err = %v, want ErrChecksum", err)
	}
	l, err := NewReader(&memFile{b: b}, int64(len(b)), Options{EntryChecksum: EntryChecksumLenient})
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if err := l.Verify(); err != nil {
		t.Fatalf("lenient Verify: %v", err)
	}
}

func TestNewReader_version1_accepted(t *testing.T) {
	base, _ := corruptBase(t)
	b := base.clone().b
	patchHeader(b, func(h []byte) {
		binary.LittleEndian.PutUint32(h[offVersion:], Version1)
		clear(h[offDataWriteGUID : offDataWriteGUID+16])
	})
	l, err := NewReader(&memFile{b: b}, int64(len(b)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := l.Header(); h.LogFormatVersion != Version1 || !h.Vhd2DataWriteGUID.IsZero() || !h.ReservedZero {
		t.Fatalf("header %+v", h)
	}
}

func TestEntries_stopEarly(t *testing.T) {
	base, _ := corruptBase(t)
	l := openMem(t, base, Options{})
	n := 0
	for _, err := range l.Entries() {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	if n != 5 {
		t.Fatalf("iterated %d entries", n)
	}
}

func TestChecksum_matchesBytewise(t *testing.T) {
	b := make([]byte, 10000)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	for _, n := range []int{0, 1, 31, 32, 33, 4095, 4096, 4097, 10000} {
		for _, skip := range []int{-1, 0, n / 2} {
			var s uint32
			for i, c := range b[:n] {
				if skip < 0 || i < skip || i >= skip+4 {
					s += uint32(c)
				}
			}
			if skip+4 > n {
				continue
			}
			if got := Checksum(b[:n], skip); got != ^s {
				t.Errorf("n=%d skip=%d: %#x, want %#x", n, skip, got, ^s)
			}
		}
	}
	all := make([]byte, 1<<16)
	for i := range all {
		all[i] = 0xff
	}
	if got, want := Checksum(all, -1), ^uint32(0xff<<16); got != want {
		t.Errorf("all 0xff: %#x, want %#x", got, want)
	}
}
