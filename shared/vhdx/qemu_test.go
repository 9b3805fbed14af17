package vhdx

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/vdisk"
)

// qemuWrite is one `qemu-io write -P` command.
type qemuWrite struct {
	pattern   byte
	off, size int64
}

func TestOpen_ReadAt_matchesQemu(t *testing.T) {
	const mib = 1 << 20
	writes := func(size, bs int64) []qemuWrite {
		return []qemuWrite{
			{0xab, mib, 64 << 10},
			{0x11, bs - 4096, 8192},       // crosses a block boundary
			{0x22, 3*bs - 512, 512 + bs},  // spans a whole block
			{0x33, size - 4096, 4096},     // the last sector(s)
			{0x44, size/2 + 512, 3 * 512}, // odd sectors in the middle
		}
	}
	tests := []struct {
		name     string
		size, bs int64
		opts     string
	}{
		{"dynamic_1M", 40 * mib, mib, "subformat=dynamic,block_size=1M"},
		{"dynamic_8M", 64 * mib, 8 * mib, "subformat=dynamic,block_size=8M"},
		{"dynamic_32M_zero_off", 200 * mib, 32 * mib, "subformat=dynamic,block_size=32M,block_state_zero=off"},
		{"dynamic_256M", 300 * mib, 256 * mib, "subformat=dynamic,block_size=256M"},
		{"fixed_8M", 64 * mib, 8 * mib, "subformat=fixed,block_size=8M"},
		{"fixed_1M_zero_off", 24 * mib, mib, "subformat=fixed,block_size=1M,block_state_zero=off"},
		{"dynamic_odd_size", 64*mib + 3*512, mib, "subformat=dynamic,block_size=1M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.vhdx")
			qemu(t, "qemu-img", "create", "-f", "vhdx", "-o", tt.opts, path, fmt.Sprint(tt.size))
			for _, w := range writes(tt.size, tt.bs) {
				if w.off+w.size > tt.size {
					continue
				}
				qemu(t, "qemu-io", "-f", "vhdx", "-c", fmt.Sprintf("write -P 0x%02x %d %d", w.pattern, w.off, w.size), path)
			}
			want := qemuRaw(t, path)
			d, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if d.Size() != int64(len(want)) {
				t.Fatalf("Size = %d, qemu raw %d", d.Size(), len(want))
			}
			if i := firstDiff(readAll(t, d), want); i >= 0 {
				t.Fatalf("ReadAt differs from qemu-img convert at %d", i)
			}
			es := collectExtents(t, d)
			checkExtentsCover(t, es, want)
			if tt.size > 6*tt.bs && !strings.Contains(tt.opts, "fixed") {
				checkHasZeroExtent(t, es)
			}
		})
	}
}

// checkHasZeroExtent requires a large disk with few writes to report zeros.
func checkHasZeroExtent(t *testing.T, es []vdisk.Extent) {
	t.Helper()
	var zero int64
	for _, e := range es {
		if e.Kind == vdisk.KindZero {
			zero += e.Length
		}
	}
	if zero == 0 {
		t.Errorf("no zero extents: %v", es)
	}
}
