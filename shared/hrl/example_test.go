package hrl

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// The specification's section 3 prints one Hyper-V log: a header, an empty
// first metadata block at 4096, the data of 58 writes from 8192, and a
// second block at 328192 (EOLLocation 332288). These tests rebuild that
// file from the printed values alone and check which printed checksums the
// structures reproduce.
const (
	exampleBlock1Offset   = 4096
	exampleBlock2Offset   = 328192
	exampleEOL            = 332288
	exampleBlock1Checksum = 4294967295
	exampleBlock2Checksum = 4294966991
	exampleBlock2Previous = 324096
	exampleHeaderChecksum = 4294959739 // printed; does not reproduce (erratum)
	exampleDistinctBytes  = 282112     // the digest's count of bytes the 58 writes touch
)

type exampleRow struct {
	id, op, length      uint32
	offset              uint64
	timeStamp, checksum uint32
}

func loadExampleRows(t *testing.T) []exampleRow {
	t.Helper()
	f, err := os.Open("testdata/spec_example_entries.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []exampleRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var r exampleRow
		if _, err := fmt.Sscan(line, &r.id, &r.op, &r.length, &r.offset, &r.timeStamp, &r.checksum); err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 58 {
		t.Fatalf("%d example rows, want 58", len(rows))
	}
	return rows
}

func mustGUID(t *testing.T, s string) GUID {
	t.Helper()
	g, err := ParseGUID(s)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// exampleHeader holds the printed header fields; cookie byte 7 and the
// CreatorApplication padding are the caller's choice.
func exampleHeader(t *testing.T, cookie7, pad byte) Header {
	return Header{
		Cookie:                [8]byte{'m', 's', 'c', 't', 'l', 'o', 'g', cookie7},
		LogFormatVersion:      0x20000,
		TimeStamp:             539842380,
		CreatorApplication:    [4]byte{'c', 't', pad, pad},
		CreatorVersion:        0xA0000,
		CurrentSize:           exampleEOL,
		EOLLocation:           exampleEOL,
		MetadataSize:          4096,
		UniqueID:              mustGUID(t, "{572fc7ff-1f03-49ab-b3c5-30a665b8e20c}"),
		PreviousUniqueID:      mustGUID(t, "{a8ae4b46-f7ad-4402-87aa-5b33e9f89c77}"),
		LastModifiedTimeStamp: 539842384,
		TotalMetadataEntries:  58,
		Vhd2DataWriteGUID:     mustGUID(t, "{b9be5c57-f8be-5503-98bb-6c44faf9ac87}"),
	}
}

// buildExample assembles the example file; data bytes are zero because the
// example prints none.
func buildExample(t *testing.T, rows []exampleRow) *memFile {
	f := &memFile{b: make([]byte, exampleEOL)}
	copy(f.b, exampleHeader(t, ' ', ' ').Marshal())
	copy(f.b[exampleBlock1Offset:], MetadataHeader{}.Marshal())
	mh := MetadataHeader{PreviousMetadataLocation: exampleBlock2Previous, ValidMetadataEntries: uint32(len(rows))}
	copy(f.b[exampleBlock2Offset:], mh.Marshal())
	for i, r := range rows {
		rec := Record{ByteOffset: r.offset, DataLength: r.length, TimeStamp: r.timeStamp, MetaOperation: uint8(r.op)}
		copy(f.b[exampleBlock2Offset+MetadataHeaderSize+i*EntrySize:], rec.Marshal())
	}
	return f
}

func TestSpecExample_metadataChecksums_reproduce(t *testing.T) {
	rows := loadExampleRows(t)
	if got := (MetadataHeader{}).Marshal(); Checksum(got, offMDChecksum) != exampleBlock1Checksum {
		t.Errorf("block 1 checksum %d, printed %d", Checksum(got, offMDChecksum), uint32(exampleBlock1Checksum))
	}
	mh := MetadataHeader{PreviousMetadataLocation: exampleBlock2Previous, ValidMetadataEntries: 58}
	if got := Checksum(mh.Marshal(), offMDChecksum); got != exampleBlock2Checksum {
		t.Errorf("block 2 checksum %d, printed %d", got, uint32(exampleBlock2Checksum))
	}
	for _, r := range rows {
		rec := Record{ByteOffset: r.offset, DataLength: r.length, TimeStamp: r.timeStamp, MetaOperation: uint8(r.op)}
		if got := Checksum(rec.Marshal(), offEChecksum); got != r.checksum {
			t.Errorf("entry %d checksum %d, printed %d", r.id, got, r.checksum)
		}
	}
}

// TestSpecExample_headerChecksum_erratum documents that the printed header
// checksum matches none of the plausible encodings of the printed fields,
// so the reconstruction carries a recomputed header checksum.
func TestSpecExample_headerChecksum_erratum(t *testing.T) {
	for _, cookie7 := range []byte{0, ' '} {
		for _, pad := range []byte{0, ' '} {
			b := exampleHeader(t, cookie7, pad).Marshal()
			got := Checksum(b, offHeaderChecksum)
			t.Logf("cookie byte 7 %#02x, creator padding %#02x: checksum %d (printed %d, difference %d)",
				cookie7, pad, got, uint32(exampleHeaderChecksum), int64(got)-exampleHeaderChecksum)
			if got == exampleHeaderChecksum {
				t.Errorf("printed header checksum reproduces with cookie7=%#x pad=%#x: the erratum note is stale", cookie7, pad)
			}
		}
	}
}

func TestSpecExample_reader_acceptsReconstruction(t *testing.T) {
	rows := loadExampleRows(t)
	f := buildExample(t, rows)
	l := openMem(t, f, Options{Name: "spec-example.hrl"})
	if err := l.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	blocks := l.Blocks()
	if len(blocks) != 2 || blocks[0].Offset != exampleBlock1Offset || blocks[1].Offset != exampleBlock2Offset ||
		blocks[1].DataStart != 8192 || blocks[0].ValidEntries != 0 || blocks[1].ValidEntries != 58 {
		t.Fatalf("blocks %+v", blocks)
	}
	i := 0
	for e, err := range l.Entries() {
		if err != nil {
			t.Fatal(err)
		}
		if r := rows[i]; e.ByteOffset != r.offset || e.DataLength != r.length || e.Checksum != r.checksum {
			t.Fatalf("entry %d = %+v, want row %+v", i, e.Record, r)
		}
		i++
	}
	if ws, _ := l.Warnings(); len(ws) != 0 {
		t.Errorf("warnings: %v", ws)
	}
	checkExampleCoalescing(t, l, rows)
}

func checkExampleCoalescing(t *testing.T, l *Log, rows []exampleRow) {
	c := NewCoalescer()
	if err := c.Add(l); err != nil {
		t.Fatal(err)
	}
	touched := map[uint64]bool{}
	for _, r := range rows {
		for s := r.offset; s < r.offset+uint64(r.length); s += 512 {
			touched[s] = true
		}
	}
	s := c.Stats()
	if s.BytesLogged != 320000 || s.BytesSurviving != int64(len(touched))*512 || s.BytesSurviving != exampleDistinctBytes {
		t.Errorf("stats %+v, want 320000 logged and %d (= %d) surviving", s, len(touched)*512, exampleDistinctBytes)
	}
}

func TestSpecExample_fields_decode(t *testing.T) {
	h := exampleHeader(t, ' ', ' ')
	if got, want := Time(h.TimeStamp), time.Date(2017, 2, 8, 4, 13, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Time(%d) = %v, want %v", h.TimeStamp, got, want)
	}
	if h.UniqueID[0] != 0xff || h.UniqueID[3] != 0x57 || h.UniqueID.String() != "572fc7ff-1f03-49ab-b3c5-30a665b8e20c" {
		t.Errorf("UniqueId raw %x, text %s", h.UniqueID[:], h.UniqueID)
	}
}
