package vhdx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a small qemu-made dynamic VHDX with its parsed layout.
type fixture struct {
	path string
	l    *layer
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "v.vhdx")
	qemu(t, "qemu-img", "create", "-f", "vhdx", "-o", "block_size=1M", path, "64M")
	qemu(t, "qemu-io", "-f", "vhdx", "-c", "write -P 0xab 1M 64k", "-c", "write -P 0xcd 5M 2M", path)
	l, err := openLayer(path, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	l.close()
	return fixture{path, l}
}

// edit applies fn to n bytes at off of the file.
func (fx fixture) edit(t *testing.T, off, n int64, fn func(b []byte)) {
	t.Helper()
	f, err := os.OpenFile(fx.path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	fn(b)
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// headers edits both header copies and fixes their CRCs.
func (fx fixture) headers(t *testing.T, fn func(b []byte)) {
	for _, off := range []int64{header1Off, header2Off} {
		fx.edit(t, off, headerSize, func(b []byte) { fn(b); putCRC(b, 4) })
	}
}

// regions edits both region tables and fixes their CRCs.
func (fx fixture) regions(t *testing.T, fn func(b []byte)) {
	for _, off := range []int64{region1Off, region2Off} {
		fx.edit(t, off, regionSize, func(b []byte) { fn(b); putCRC(b, 4) })
	}
}

// metaEntry edits metadata table entry i.
func (fx fixture) metaEntry(t *testing.T, i int64, fn func(b []byte)) {
	fx.edit(t, fx.l.meta.off+32+32*i, 32, fn)
}

// metaItem edits the content of the item with the given GUID.
func (fx fixture) metaItem(t *testing.T, guid string, fn func(b []byte)) {
	t.Helper()
	for i := int64(0); i < 5; i++ {
		var id string
		var off int64
		fx.edit(t, fx.l.meta.off+32+32*i, 32, func(b []byte) { id, off = getGUID(b).String(), int64(u32(b[16:])) })
		if id == guid {
			fx.edit(t, fx.l.meta.off+off, 8, fn)
			return
		}
	}
	t.Fatalf("item %s not found", guid)
}

// batEntry edits BAT entry i.
func (fx fixture) batEntry(t *testing.T, i int64, fn func(b []byte)) {
	fx.edit(t, fx.l.bat.off+8*i, 8, fn)
}

func TestOpen_validation_rejectsCorruption(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, fx fixture)
		want   error
		msg    string
	}{
		{"file_signature", func(t *testing.T, fx fixture) { fx.edit(t, 0, 8, func(b []byte) { b[0] = 'X' }) }, ErrCorrupt, "file identifier"},
		{"both_header_crcs", func(t *testing.T, fx fixture) {
			fx.edit(t, header1Off+100, 1, func(b []byte) { b[0] ^= 1 })
			fx.edit(t, header2Off+100, 1, func(b []byte) { b[0] ^= 1 })
		}, ErrBadChecksum, "header 1: checksum"},
		{"header_version", func(t *testing.T, fx fixture) { fx.headers(t, func(b []byte) { put16(b[66:], 2) }) }, ErrUnsupported, "version 2"},
		{"log_version", func(t *testing.T, fx fixture) { fx.headers(t, func(b []byte) { put16(b[64:], 1) }) }, ErrUnsupported, "log version"},
		{"log_unaligned", func(t *testing.T, fx fixture) { fx.headers(t, func(b []byte) { put64(b[72:], 1<<20+4096) }) }, ErrCorrupt, "log offset 0x101000 not 1 MiB aligned"},
		{"log_in_header_section", func(t *testing.T, fx fixture) { fx.headers(t, func(b []byte) { put64(b[72:], 0) }) }, ErrCorrupt, "inside the header section"},
		{"log_beyond_file", func(t *testing.T, fx fixture) { fx.headers(t, func(b []byte) { put32(b[68:], 1<<30) }) }, ErrCorrupt, "beyond end of file"},
		{"equal_seq_different", func(t *testing.T, fx fixture) {
			fx.edit(t, header1Off, headerSize, func(b []byte) { put64(b[8:], 9); b[200] = 1; putCRC(b, 4) })
			fx.edit(t, header2Off, headerSize, func(b []byte) { put64(b[8:], 9); putCRC(b, 4) })
		}, ErrCorrupt, "equal sequence number"},
		{"region_crc_both", func(t *testing.T, fx fixture) {
			fx.edit(t, region1Off+100, 1, func(b []byte) { b[0] ^= 1 })
			fx.edit(t, region2Off+100, 1, func(b []byte) { b[0] ^= 1 })
		}, ErrBadChecksum, "region table 1: checksum"},
		{"region_count", func(t *testing.T, fx fixture) { fx.regions(t, func(b []byte) { put32(b[8:], 5000) }) }, ErrCorrupt, "entry count 5000"},
		{"region_unaligned", func(t *testing.T, fx fixture) { fx.regions(t, func(b []byte) { put64(b[16+16:], 0x201000) }) }, ErrCorrupt, "region table 1: entry 0: offset 0x201000 not 1 MiB aligned"},
		{"region_overlap_log", func(t *testing.T, fx fixture) { fx.regions(t, func(b []byte) { put64(b[16+16:], 1<<20) }) }, ErrCorrupt, "overlaps"},
		{"region_beyond_file", func(t *testing.T, fx fixture) { fx.regions(t, func(b []byte) { put64(b[16+16:], 1<<40) }) }, ErrCorrupt, "beyond end of file"},
		{"region_unknown_required", func(t *testing.T, fx fixture) {
			fx.regions(t, func(b []byte) {
				put32(b[8:], 3)
				e := b[16+64:]
				e[0] = 1
				put64(e[16:], 7<<20)
				put32(e[24:], 1<<20)
				put32(e[28:], 1)
			})
		}, ErrUnsupported, "unknown required region"},
		{"region_bat_missing", func(t *testing.T, fx fixture) { fx.regions(t, func(b []byte) { put32(b[8:], 1) }) }, ErrCorrupt, "want 1 each"},
		{"metadata_signature", func(t *testing.T, fx fixture) { fx.edit(t, fx.l.meta.off, 1, func(b []byte) { b[0] = 'X' }) }, ErrCorrupt, "metadata table: signature"},
		{"metadata_item_offset_low", func(t *testing.T, fx fixture) { fx.metaEntry(t, 0, func(b []byte) { put32(b[16:], 100) }) }, ErrCorrupt, "metadata table: entry 0: offset 0x64 below 64 KiB"},
		{"metadata_item_too_long", func(t *testing.T, fx fixture) { fx.metaEntry(t, 0, func(b []byte) { put32(b[20:], 2<<20) }) }, ErrCorrupt, "above 1 MiB"},
		{"metadata_item_overlap", func(t *testing.T, fx fixture) {
			var off uint32
			fx.metaEntry(t, 0, func(b []byte) { off = u32(b[16:]) })
			fx.metaEntry(t, 1, func(b []byte) { put32(b[16:], off) })
		}, ErrCorrupt, "overlaps"},
		{"metadata_unknown_required", func(t *testing.T, fx fixture) { fx.metaEntry(t, 0, func(b []byte) { b[0] ^= 0x55 }) }, ErrUnsupported, "unknown required item"},
		{"metadata_duplicate", func(t *testing.T, fx fixture) {
			var id []byte
			fx.metaEntry(t, 0, func(b []byte) { id = append(id, b[:16]...) })
			fx.metaEntry(t, 1, func(b []byte) { copy(b, id) })
		}, ErrCorrupt, "repeats"},
		{"metadata_missing_item", func(t *testing.T, fx fixture) { fx.edit(t, fx.l.meta.off+10, 2, func(b []byte) { put16(b, 4) }) }, ErrCorrupt, "item missing"},
		{"block_size_not_pow2", func(t *testing.T, fx fixture) { fx.metaItem(t, guidFileParams, func(b []byte) { put32(b, 3<<20) }) }, ErrCorrupt, "block size"},
		{"block_size_too_large", func(t *testing.T, fx fixture) { fx.metaItem(t, guidFileParams, func(b []byte) { put32(b, 512<<20) }) }, ErrCorrupt, "block size"},
		{"reserved_flags", func(t *testing.T, fx fixture) { fx.metaItem(t, guidFileParams, func(b []byte) { b[4] |= 8 }) }, ErrCorrupt, "reserved flag"},
		{"has_parent_without_locator", func(t *testing.T, fx fixture) { fx.metaItem(t, guidFileParams, func(b []byte) { b[4] |= 2 }) }, ErrCorrupt, "parent locator present=false"},
		{"logical_sector", func(t *testing.T, fx fixture) { fx.metaItem(t, guidLogicalSector, func(b []byte) { put32(b, 1024) }) }, ErrCorrupt, "logical sector size 1024"},
		{"physical_sector", func(t *testing.T, fx fixture) { fx.metaItem(t, guidPhysicalSector, func(b []byte) { put32(b, 0) }) }, ErrCorrupt, "physical sector size 0"},
		{"size_zero", func(t *testing.T, fx fixture) { fx.metaItem(t, guidVirtualSize, func(b []byte) { put64(b, 0) }) }, ErrCorrupt, "virtual disk size 0"},
		{"size_unaligned", func(t *testing.T, fx fixture) {
			fx.metaItem(t, guidVirtualSize, func(b []byte) { put64(b, 64<<20+100) })
		}, ErrCorrupt, "not a multiple"},
		{"size_too_large", func(t *testing.T, fx fixture) { fx.metaItem(t, guidVirtualSize, func(b []byte) { put64(b, 65<<40) }) }, ErrCorrupt, "64 TiB"},
		{"bat_too_small", func(t *testing.T, fx fixture) { fx.metaItem(t, guidVirtualSize, func(b []byte) { put64(b, 1<<40) }) }, ErrCorrupt, "BAT region: length"},
		{"bat_state_reserved", func(t *testing.T, fx fixture) { fx.batEntry(t, 3, func(b []byte) { b[0] = 4 }) }, ErrCorrupt, "BAT: entry 3 (block 3): state 4 invalid"},
		{"bat_partial_in_dynamic", func(t *testing.T, fx fixture) { fx.batEntry(t, 3, func(b []byte) { b[0] = 7 }) }, ErrCorrupt, "state 7 invalid"},
		{"bat_block_beyond_file", func(t *testing.T, fx fixture) { fx.batEntry(t, 3, func(b []byte) { put64(b, 1<<40|6) }) }, ErrCorrupt, "outside the file"},
		{"bat_block_overlaps_metadata", func(t *testing.T, fx fixture) {
			fx.batEntry(t, 3, func(b []byte) { put64(b, uint64(fx.l.meta.off)|6) })
		}, ErrCorrupt, "overlaps the metadata region"},
		{"bat_blocks_overlap", func(t *testing.T, fx fixture) {
			var e uint64
			fx.batEntry(t, 1, func(b []byte) { e = u64(b) })
			fx.batEntry(t, 3, func(b []byte) { put64(b, e) })
		}, ErrCorrupt, "overlaps another block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			tt.mutate(t, fx)
			d, err := Open(fx.path)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), fx.path) {
				t.Fatalf("Open: %v\nwant class %v, message containing %q and the path", err, tt.want, tt.msg)
			}
		})
	}
}

func TestOpen_validation_fallsBackToSecondCopies(t *testing.T) {
	fx := newFixture(t)
	want := qemuRaw(t, fx.path)
	fx.edit(t, header1Off+100, 1, func(b []byte) { b[0] ^= 1 })
	fx.edit(t, region1Off+100, 1, func(b []byte) { b[0] ^= 1 })
	d, err := Open(fx.path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if i := firstDiff(readAll(t, d), want); i >= 0 {
		t.Fatalf("differs at %d", i)
	}
}
