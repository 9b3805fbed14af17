package vhd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd/vhdtest"
)

// run runs a command and fails the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// qemuRaw converts a vpc image to raw with qemu-img and returns the bytes.
func qemuRaw(t *testing.T, qemuImg, path string) []byte {
	t.Helper()
	raw := path + ".raw"
	run(t, qemuImg, "convert", "-f", "vpc", "-O", "raw", path, raw)
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpen_qemuImages(t *testing.T) {
	qemuImg := testenv.LookTool(t, "qemu-img")
	qemuIO := testenv.LookTool(t, "qemu-io")
	writes := []string{
		"write -P 0x11 0 512",
		"write -P 0xab 1M 64k",
		"write -P 0x5c 2044k 8k",  // crosses the first 2 MiB block boundary
		"write -P 0x77 4093k 1k",  // near the end of a 5 MiB + 512 disk
		"write -P 0x00 3M 4k",     // zeros written: allocated, reads as zero
		"write -P 0x99 1000k 24k", // overlaps nothing else
	}
	tests := []struct {
		name, opts, size string
	}{
		{"dynamic_chs", "subformat=dynamic", "5243392"},
		{"dynamic_force_size", "subformat=dynamic,force_size=on", "5243392"},
		{"fixed_chs", "subformat=fixed", "5243392"},
		{"fixed_force_size", "subformat=fixed,force_size=on", "5243392"},
		{"dynamic_64M", "subformat=dynamic", "64M"},
		{"fixed_force_size_64M", "subformat=fixed,force_size=on", "64M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "q.vhd")
			run(t, qemuImg, "create", "-q", "-f", "vpc", "-o", tt.opts, p, tt.size)
			for _, w := range writes {
				run(t, qemuIO, "-f", "vpc", "-c", w, p)
			}
			want := qemuRaw(t, qemuImg, p)
			d := mustOpen(t, p)
			if d.Size() != int64(len(want)) {
				t.Fatalf("Size = %d, qemu raw has %d bytes", d.Size(), len(want))
			}
			if got := readAll(t, d); !bytes.Equal(got, want) {
				t.Fatalf("content differs from qemu-img convert at byte %d", firstDiff(got, want))
			}
			data := checkExtents(t, d, want)
			if strings.Contains(tt.opts, "dynamic") && data >= d.Size() {
				t.Fatalf("dynamic disk reports %d data bytes of %d", data, d.Size())
			}
		})
	}
}

func TestAzureFixedFooter_qemu(t *testing.T) {
	qemuImg := testenv.LookTool(t, "qemu-img")
	for _, size := range []int64{20 << 20, 65 << 20, 1 << 30} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := t.TempDir()
			ref := filepath.Join(dir, "ref.raw")
			replica := filepath.Join(dir, "replica.vhd")
			footer, err := AzureFixedFooter(size, vdisk.GUID{1, 2, 3}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			writeSparse(t, ref, size, nil)
			writeSparse(t, replica, size, footer)
			var info struct {
				VirtualSize int64  `json:"virtual-size"`
				Format      string `json:"format"`
			}
			if err := json.Unmarshal([]byte(run(t, qemuImg, "info", "-f", "vpc", "--output=json", replica)), &info); err != nil {
				t.Fatal(err)
			}
			if info.VirtualSize != size || info.Format != "vpc" {
				t.Fatalf("qemu-img info: %+v, want vpc of %d bytes", info, size)
			}
			run(t, qemuImg, "compare", "-q", "-f", "vpc", "-F", "raw", replica, ref)
			d := mustOpen(t, replica)
			if d.Size() != size || d.Footer().DiskType != TypeFixed || len(d.Warnings()) != 0 {
				t.Fatalf("reader: size %d type %v warnings %q", d.Size(), d.Footer().DiskType, d.Warnings())
			}
		})
	}
}

// TestVhdtest_dynamicMatchesQemu checks the test builder itself: qemu must
// read its dynamic disks as the writes it was given.
func TestVhdtest_dynamicMatchesQemu(t *testing.T) {
	qemuImg := testenv.LookTool(t, "qemu-img")
	for _, bs := range []uint32{0, 512 << 10} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			const size = 5<<20 + 1536
			im := vhdtest.New(vhdtest.Dynamic, size, guid(1))
			im.BlockSize = bs
			im.ReverseBlocks = true
			want := make([]byte, size)
			for i, w := range []struct{ off, n int64 }{{0, 512}, {2<<20 - 1024, 4096}, {size - 1536, 1536}, {3 << 20, 600 << 10}} {
				data := bytes.Repeat([]byte{byte(0x30 + i)}, int(w.n))
				im.Write(w.off, data)
				copy(want[w.off:], data)
			}
			p := writeImage(t, t.TempDir(), "b.vhd", im)
			if got := qemuRaw(t, qemuImg, p); !bytes.Equal(got, want) {
				t.Fatalf("qemu reads the builder's disk differently (len %d, first diff %d)", len(got), firstDiff(got, want))
			}
			if got := readAll(t, mustOpen(t, p)); !bytes.Equal(got, want) {
				t.Fatalf("reader differs at %d", firstDiff(got, want))
			}
		})
	}
}

// writeSparse writes a sparse file of size bytes with a few patterns, then
// tail appended.
func writeSparse(t *testing.T, path string, size int64, tail []byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, at := range []int64{0, size / 2, size - 512} {
		if _, err := f.WriteAt(bytes.Repeat([]byte{0xAB, 0xCD}, 256), at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WriteAt(tail, size); err != nil {
		t.Fatal(err)
	}
}
