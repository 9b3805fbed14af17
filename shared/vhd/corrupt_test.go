package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/vhd/vhdtest"
)

// sampleFile is a 4 MiB dynamic disk with two 2 MiB blocks allocated
// (sectors 4 and 4+4097 in file order), laid out as vhdtest does: footer
// copy, header at 512, BAT at 1536.
func sampleFile(typ uint32) []byte {
	im := vhdtest.New(typ, 4<<20, guid(1))
	if typ == vhdtest.Differencing {
		im.Parent = &vhdtest.Parent{UniqueID: guid(2), TimeStamp: 7, Relative: "p.vhd"}
	}
	im.Write(0, bytes.Repeat([]byte{1}, 4096))
	if typ != vhdtest.Fixed {
		im.Write(3<<20, bytes.Repeat([]byte{2}, 4096))
	}
	return im.Bytes()
}

// resum recomputes the checksums of both footers and the header.
func resum(b []byte, typ uint32) {
	fix := func(s []byte, at int) {
		binary.BigEndian.PutUint32(s[at:], 0)
		binary.BigEndian.PutUint32(s[at:], checksum(s, at))
	}
	fix(b[len(b)-512:], 64)
	if typ != vhdtest.Fixed {
		fix(b[:512], 64)
		fix(b[512:1536], 36)
	}
}

// footerField patches a footer field in both copies.
func footerField(off int, v uint64, width int) func([]byte) {
	return func(b []byte) {
		for _, f := range [][]byte{b[:512], b[len(b)-512:]} {
			if width == 8 {
				binary.BigEndian.PutUint64(f[off:], v)
			} else {
				binary.BigEndian.PutUint32(f[off:], uint32(v))
			}
		}
	}
}

func u32At(off int, v uint32) func([]byte) {
	return func(b []byte) { binary.BigEndian.PutUint32(b[off:], v) }
}

func TestOpen_corruptFiles(t *testing.T) {
	tests := []struct {
		name    string
		typ     uint32
		patch   func([]byte) // checksums are recomputed after it unless noResum
		noResum bool
		trunc   int // bytes cut from the end
		wantErr error
		wantMsg string
	}{
		{name: "tiny_file", typ: vhdtest.Dynamic, trunc: 4<<20 + 10000, wantErr: ErrNotVHD},
		{name: "no_cookie", typ: vhdtest.Dynamic, patch: func(b []byte) { copy(b[len(b)-512:], "CONECTIX"); copy(b, "CONECTIX") }, wantErr: ErrNotVHD},
		{name: "fixed_bad_footer_checksum", typ: vhdtest.Fixed, noResum: true, patch: func(b []byte) { b[len(b)-10] = 1 }, wantErr: ErrBadChecksum, wantMsg: "footer: Checksum"},
		{name: "both_footers_bad", typ: vhdtest.Dynamic, noResum: true, patch: func(b []byte) { b[len(b)-10] = 1; b[502] = 1 }, wantErr: ErrBadChecksum},
		{name: "version_2", typ: vhdtest.Dynamic, patch: footerField(12, 0x00020000, 4), wantErr: ErrUnsupported, wantMsg: "FileFormatVersion"},
		{name: "disk_type_5", typ: vhdtest.Dynamic, patch: footerField(60, 5, 4), wantErr: ErrUnsupported, wantMsg: "DiskType 5"},
		{name: "size_not_sector_multiple", typ: vhdtest.Dynamic, patch: footerField(48, 4<<20+1, 8), wantErr: ErrCorrupt, wantMsg: "CurrentSize"},
		{name: "size_zero", typ: vhdtest.Dynamic, patch: footerField(48, 0, 8), wantErr: ErrCorrupt, wantMsg: "CurrentSize 0"},
		{name: "dynamic_size_4TiB", typ: vhdtest.Dynamic, patch: footerField(48, 4<<40, 8), wantErr: ErrUnsupported, wantMsg: "CurrentSize"},
		{name: "fixed_size_vs_file", typ: vhdtest.Fixed, patch: footerField(48, 8<<20, 8), wantErr: ErrCorrupt, wantMsg: "fixed disk needs"},
		{name: "data_offset_beyond_file", typ: vhdtest.Dynamic, patch: footerField(16, 1<<40, 8), wantErr: ErrCorrupt, wantMsg: "DataOffset"},
		{name: "data_offset_in_head_footer", typ: vhdtest.Dynamic, patch: footerField(16, 0, 8), wantErr: ErrCorrupt, wantMsg: "DataOffset"},
		{name: "header_cookie", typ: vhdtest.Dynamic, patch: func(b []byte) { copy(b[512:], "xxsparse") }, wantErr: ErrCorrupt, wantMsg: "dynamic header: Cookie"},
		{name: "header_checksum", typ: vhdtest.Dynamic, noResum: true, patch: func(b []byte) { b[512+800] = 9 }, wantErr: ErrBadChecksum, wantMsg: "dynamic header: Checksum"},
		{name: "header_version", typ: vhdtest.Dynamic, patch: u32At(512+24, 0x00020000), wantErr: ErrUnsupported, wantMsg: "HeaderVersion"},
		{name: "block_size_not_power_of_two", typ: vhdtest.Dynamic, patch: u32At(512+32, 3000), wantErr: ErrCorrupt, wantMsg: "dynamic header: BlockSize 3000 is not a power of two"},
		{name: "block_size_256", typ: vhdtest.Dynamic, patch: u32At(512+32, 256), wantErr: ErrCorrupt, wantMsg: "BlockSize 256"},
		{name: "max_table_entries_short", typ: vhdtest.Dynamic, patch: u32At(512+28, 1), wantErr: ErrCorrupt, wantMsg: "MaxTableEntries 1"},
		{name: "huge_bat_not_in_file", typ: vhdtest.Dynamic, patch: u32At(512+28, 0xFFFFFFF0), wantErr: ErrCorrupt, wantMsg: "BAT"},
		{name: "too_many_blocks", typ: vhdtest.Dynamic, patch: func(b []byte) { footerField(48, 1<<40, 8)(b); u32At(512+32, 4096)(b); u32At(512+28, 1<<28)(b) }, wantErr: ErrUnsupported, wantMsg: "BAT entries"},
		{name: "table_offset_beyond_file", typ: vhdtest.Dynamic, patch: func(b []byte) { binary.BigEndian.PutUint64(b[512+16:], 1<<50) }, wantErr: ErrCorrupt, wantMsg: "TableOffset"},
		{name: "bat_over_header", typ: vhdtest.Dynamic, patch: func(b []byte) { binary.BigEndian.PutUint64(b[512+16:], 1024) }, wantErr: ErrCorrupt, wantMsg: "overlaps the dynamic header"},
		{name: "bat_entry_beyond_file", typ: vhdtest.Dynamic, patch: u32At(1536, 1<<30), wantErr: ErrCorrupt, wantMsg: "BAT: entry 0"},
		{name: "bat_entry_into_footer", typ: vhdtest.Dynamic, patch: func(b []byte) { binary.BigEndian.PutUint32(b[1536+4:], uint32(len(b)/512-4096)) }, wantErr: ErrCorrupt, wantMsg: "outside the data area"},
		{name: "bat_entry_on_header", typ: vhdtest.Dynamic, patch: u32At(1536, 2), wantErr: ErrCorrupt, wantMsg: "overlaps metadata"},
		{name: "bat_entries_overlap", typ: vhdtest.Dynamic, patch: u32At(1536+4, 5), wantErr: ErrCorrupt, wantMsg: "overlaps another block"},
		{name: "diff_zero_parent_id", typ: vhdtest.Differencing, patch: func(b []byte) { clear(b[512+40 : 512+56]) }, wantErr: ErrCorrupt, wantMsg: "ParentUniqueId is zero"},
		{name: "locator_odd_length", typ: vhdtest.Differencing, patch: u32At(512+576+8, 5), wantErr: ErrCorrupt, wantMsg: "parent locator 0: PlatformDataLength 5"},
		{name: "locator_beyond_file", typ: vhdtest.Differencing, patch: func(b []byte) { binary.BigEndian.PutUint64(b[512+576+16:], 1<<40) }, wantErr: ErrCorrupt, wantMsg: "PlatformDataOffset"},
		{name: "truncated_dynamic", typ: vhdtest.Dynamic, trunc: 1 << 20, wantErr: ErrNotVHD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleFile(tt.typ)
			if tt.patch != nil {
				tt.patch(b)
				if !tt.noResum {
					resum(b, tt.typ)
				}
			}
			b = b[:max(0, len(b)-tt.trunc)]
			p := filepath.Join(t.TempDir(), "bad.vhd")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := Open(p)
			if err == nil {
				d.Close()
				t.Fatalf("Open succeeded, want %v", tt.wantErr)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("error %q does not name the file and %q", err, tt.wantMsg)
			}
		})
	}
}

func TestOpen_tailFooterDamaged_usesHeadCopy(t *testing.T) {
	b := sampleFile(vhdtest.Dynamic)
	b[len(b)-10] = 1 // breaks the tail footer's checksum only
	p := filepath.Join(t.TempDir(), "d.vhd")
	os.WriteFile(p, b, 0o644)
	d := mustOpen(t, p)
	if len(d.Warnings()) == 0 || !strings.Contains(strings.Join(d.Warnings(), "\n"), "tail footer is damaged") {
		t.Fatalf("warnings = %q", d.Warnings())
	}
	buf := make([]byte, 4096)
	d.ReadAt(buf, 3<<20)
	if !bytes.Equal(buf, bytes.Repeat([]byte{2}, 4096)) {
		t.Fatal("wrong data")
	}
}

func TestOpen_oldFooter511(t *testing.T) {
	// A fixed disk with a 511-byte footer (no SavedState byte).
	b := sampleFile(vhdtest.Fixed)
	b = b[:len(b)-1]
	footer := b[len(b)-511:]
	binary.BigEndian.PutUint32(footer[64:], 0)
	binary.BigEndian.PutUint32(footer[64:], checksum(footer, 64))
	p := filepath.Join(t.TempDir(), "old.vhd")
	os.WriteFile(p, b, 0o644)
	d := mustOpen(t, p)
	if d.Size() != 4<<20 {
		t.Fatalf("Size = %d", d.Size())
	}
	got := readAll(t, d)
	if !bytes.Equal(got[:4096], bytes.Repeat([]byte{1}, 4096)) {
		t.Fatal("wrong data")
	}
}

func TestOpen_warnings(t *testing.T) {
	tests := []struct {
		name  string
		patch func([]byte)
		want  string
	}{
		{"saved_state", func(b []byte) { b[84] = 1; b[len(b)-512+84] = 1 }, "SavedState is set"},
		{"features_without_reserved_bit", footerField(8, 0, 4), "lacks the reserved bit"},
		{"head_copy_differs", func(b []byte) { b[100] = 7 }, "copy at offset 0 differs"},
		{"geometry_larger_than_size", func(b []byte) { footerField(56, 0xFFFF10FF, 4)(b) }, "geometry 65535/16/255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sampleFile(vhdtest.Dynamic)
			tt.patch(b)
			resum(b, vhdtest.Dynamic)
			p := filepath.Join(t.TempDir(), "w.vhd")
			os.WriteFile(p, b, 0o644)
			d := mustOpen(t, p)
			if w := strings.Join(d.Warnings(), "\n"); !strings.Contains(w, tt.want) {
				t.Fatalf("warnings %q, want %q", w, tt.want)
			}
		})
	}
}
