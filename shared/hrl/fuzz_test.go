package hrl

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update", false, "rewrite the committed fuzz seed corpora under testdata/fuzz")

// sentinels lists every error a reader may return.
func sentinels() []error {
	return []error{ErrTruncated, ErrNotHRL, ErrChecksum, ErrUnsupportedVersion, ErrFlags, ErrNotClosed,
		ErrMetadataSize, ErrBadEOL, ErrErrorCode, ErrDataWriteGUID, ErrBrokenChain, ErrTooManyEntries,
		ErrNotContiguous, ErrOperation, ErrPastEnd, ErrUnaligned, ErrLimit}
}

func isNamed(err error) bool {
	for _, s := range sentinels() {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// smallLogs returns small valid logs: tiny metadata blocks, few writes.
func smallLogs(t testing.TB) [][]byte {
	var out [][]byte
	for i, ms := range []uint32{64, 128, 512} {
		o := testWriterOptions(0)
		o.MetadataSize = ms
		o.UniqueID = GUID{byte(i + 1)}
		ws := []write{{0, bytes.Repeat([]byte{1}, 512)}, {512, bytes.Repeat([]byte{2}, 1024)}, {256 * 512, bytes.Repeat([]byte{3}, 512)}}
		out = append(out, writeLog(t, ws[:i+1], o, 0).b)
	}
	return out
}

func FuzzOpen(f *testing.F) {
	for _, b := range smallLogs(f) {
		f.Add(b)
	}
	f.Add(make([]byte, HeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := NewReader(&memFile{b: b}, int64(len(b)), Options{DiskSize: 1 << 30})
		if err != nil {
			if !isNamed(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		checkOpened(t, l, int64(len(b)))
	})
}

// checkOpened checks what a successful open promises: entries inside the
// data area, data that fills it exactly, and a working coalescer.
func checkOpened(t *testing.T, l *Log, size int64) {
	var n, logged int64
	for e, err := range l.Entries() {
		if err != nil {
			t.Fatalf("entries after a successful open: %v", err)
		}
		if e.FileOffset < HeaderSize || e.FileOffset+e.Length() > int64(l.Header().EOLLocation) || e.DiskOffset()+e.Length() > 1<<30 {
			t.Fatalf("entry %+v out of bounds (size %d)", e, size)
		}
		n++
		logged += e.Length()
	}
	if n != l.EntryCount() || logged != l.BytesLogged() {
		t.Fatalf("iterated %d entries/%d bytes, open counted %d/%d", n, logged, l.EntryCount(), l.BytesLogged())
	}
	if err := l.Verify(); err != nil && !errors.Is(err, ErrChecksum) {
		t.Fatalf("Verify: %v", err)
	}
	c := NewCoalescer()
	if err := c.Add(l); err != nil {
		t.Fatalf("coalesce: %v", err)
	}
	if s := c.Stats(); s.BytesSurviving > s.BytesLogged {
		t.Fatalf("stats %+v", s)
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, b := range smallLogs(f) {
		f.Add(b[:HeaderSize])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !isNamed(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !h.ReservedZero || h.Cookie[7] != 0 {
			return
		}
		if again := h.Marshal(); !bytes.Equal(again, b[:HeaderSize]) {
			t.Fatal("decode then encode changed the header")
		}
	})
}

func FuzzParseMetadataHeader(f *testing.F) {
	f.Add(MetadataHeader{}.Marshal())
	f.Add(MetadataHeader{PreviousMetadataLocation: 324096, ValidMetadataEntries: 58}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadataHeader(b, 4096)
		if err != nil {
			if !isNamed(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(m.Marshal(), b[:MetadataHeaderSize]) {
			t.Fatal("decode then encode changed the metadata header")
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add(Record{ByteOffset: 3626340352, DataLength: 4096, TimeStamp: 539842382, MetaOperation: 1}.Marshal())
	f.Add(Record{ByteOffset: 512, DataLength: 512, MetaOperation: 1, DataChecksum: 0xfffffe00}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b, 4128, EntryChecksumStrict)
		if err != nil {
			if !isNamed(err) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if !bytes.Equal(r.Marshal(), b[:EntrySize]) {
			t.Fatal("decode then encode changed the entry")
		}
	})
}

// FuzzExtentTree reads 9-byte operations (offset, length, file) and checks
// the tree against a byte map.
func FuzzExtentTree(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 5, 0, 0, 3, 1, 0, 2, 0, 20, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const disk = 1 << 12
		tree := newExtentTreeCap(4)
		want := make([]int64, disk)
		next := int64(1)
		for ; len(ops) >= 9; ops = ops[9:] {
			off := int64(binary.LittleEndian.Uint16(ops)) % disk
			n := min(int64(binary.LittleEndian.Uint16(ops[2:]))%512+1, disk-off)
			tree.insert(off, uint32(n), uint32(ops[4]%3), next)
			for i := range n {
				want[off+i] = next + i
			}
			next += n + int64(ops[5]%2)
		}
		checkTreeAgainst(t, &tree, want)
	})
}

func checkTreeAgainst(t *testing.T, tree *extentTree, want []int64) {
	got := make([]int64, len(want))
	end, count := int64(0), 0
	tree.walk(func(nd node) bool {
		if nd.off < end || nd.n == 0 {
			t.Fatalf("extent [%d,+%d) overlaps or is empty", nd.off, nd.n)
		}
		for i := range int64(nd.n) {
			got[nd.off+i] = nd.foff + i
		}
		end, count = nd.off+int64(nd.n), count+1
		return true
	})
	if count != tree.count {
		t.Fatalf("walk saw %d extents, count says %d", count, tree.count)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("byte %d maps to %d, want %d", i, got[i], want[i])
		}
	}
}

// TestFuzzSeeds_committed keeps the committed seed corpora in step with the
// writer; run with -update to rewrite them.
func TestFuzzSeeds_committed(t *testing.T) {
	seeds := map[string][][]byte{
		"FuzzOpen":                smallLogs(t),
		"FuzzParseMetadataHeader": {MetadataHeader{PreviousMetadataLocation: 4160, ValidMetadataEntries: 1}.Marshal()},
		"FuzzParseRecord":         {Record{ByteOffset: 1 << 20, DataLength: 1024, MetaOperation: 1, DataChecksum: 7}.Marshal()},
		"FuzzExtentTree":          {{1, 0, 255, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 128, 0, 8, 0, 2, 1, 0, 0, 0}},
	}
	for _, b := range smallLogs(t) {
		seeds["FuzzParseHeader"] = append(seeds["FuzzParseHeader"], b[:HeaderSize])
		open := bytes.Clone(b)
		patchHeader(open, func(h []byte) { binary.LittleEndian.PutUint64(h[offEOL:], 0) })
		seeds["FuzzOpen"] = append(seeds["FuzzOpen"], open)
	}
	for target, inputs := range seeds {
		for i, b := range inputs {
			path := filepath.Join("testdata", "fuzz", target, fmt.Sprintf("seed-%d", i))
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if *updateSeeds {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is stale or missing (run go test -run TestFuzzSeeds -update): %v", path, err)
			}
		}
	}
}
