package diskcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/diskfile"
	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd/vhdtest"
)

// qemuImage makes an image with qemu-img and qemu-io and returns its path
// and qemu's raw conversion of it.
func qemuImage(t *testing.T, format, opts, size string, writes ...string) (string, []byte) {
	t.Helper()
	qemuImg := testenv.LookTool(t, "qemu-img")
	qemuIO := testenv.LookTool(t, "qemu-io")
	dir := t.TempDir()
	p := filepath.Join(dir, "disk."+format)
	run(t, qemuImg, "create", "-q", "-f", format, "-o", opts, p, size)
	for _, w := range writes {
		run(t, qemuIO, "-f", format, "-c", w, p)
	}
	raw := filepath.Join(dir, "qemu.raw")
	run(t, qemuImg, "convert", "-f", format, "-O", "raw", p, raw)
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

var patterns = []string{
	"write -P 0xab 1M 64k", "write -P 0x11 0 512", "write -P 0x5c 8188k 8k", "write -P 0x77 20M 3M",
}

func TestCat_matchesQemu(t *testing.T) {
	tests := []struct{ name, format, opts, size string }{
		{"vpc_dynamic", "vpc", "subformat=dynamic", "40M"},
		{"vpc_dynamic_force_size", "vpc", "subformat=dynamic,force_size=on", "40M"},
		{"vpc_fixed", "vpc", "subformat=fixed", "40M"},
		{"vpc_fixed_force_size", "vpc", "subformat=fixed,force_size=on", "40M"},
		{"vhdx_dynamic", "vhdx", "subformat=dynamic", "40M"},
		{"vhdx_dynamic_odd_size", "vhdx", "subformat=dynamic,block_size=1M", "41000K"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, want := qemuImage(t, tt.format, tt.opts, tt.size, patterns...)
			img, err := diskfile.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			o := Options{ChunkSize: 1 << 20, Readers: 3}
			var stream bytes.Buffer
			if err := Cat(context.Background(), img, &stream, o); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stream.Bytes(), want) {
				t.Fatalf("streamed cat differs from qemu-img convert (len %d vs %d)", stream.Len(), len(want))
			}
			if got := catToFile(t, img, o, 3*len(want)); !bytes.Equal(got, want) {
				t.Fatalf("file cat differs from qemu-img convert (len %d vs %d)", len(got), len(want))
			}
		})
	}
}

// catToFile cats into a file that already holds junk, which must not
// survive in the holes, and returns the file's content.
func catToFile(t *testing.T, img vdisk.Image, o Options, junk int) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "out.raw")
	if err := os.WriteFile(p, bytes.Repeat([]byte{0xEE}, junk), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Cat(context.Background(), img, f, o); err != nil {
		t.Fatal(err)
	}
	if pos, _ := f.Seek(0, 1); pos != img.Size() {
		t.Fatalf("file offset %d after cat, want %d", pos, img.Size())
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// chainFile builds a three-level differencing VHD chain and its oracle.
func chainFile(t *testing.T) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	const size = 6<<20 + 512
	want := make([]byte, size)
	var top string
	for i := range 3 {
		typ := uint32(vhdtest.Differencing)
		if i == 0 {
			typ = vhdtest.Dynamic
		}
		im := vhdtest.New(typ, size, [16]byte{byte(i + 1)})
		im.BlockSize, im.Garbage = 512<<10, 0xCC
		if i > 0 {
			im.Parent = &vhdtest.Parent{UniqueID: [16]byte{byte(i)}, TimeStamp: 1000, Relative: "l" + string(rune('0'+i-1)) + ".vhd"}
		}
		off := int64(i) * (1<<20 + 512*3)
		data := bytes.Repeat([]byte{byte(0x41 + i)}, 1<<20+1024)
		im.Write(off, data)
		copy(want[off:], data)
		top = filepath.Join(dir, "l"+string(rune('0'+i))+".vhd")
		if err := im.WriteFile(top); err != nil {
			t.Fatal(err)
		}
	}
	return top, want
}

func TestCommands_chain(t *testing.T) {
	top, want := chainFile(t)
	out := execute(t, nil, "info", top)
	var info Info
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Format != "vhd" || info.Subformat != "differencing" || len(info.Parents) != 2 ||
		info.Parents[1].Subformat != "dynamic" || info.VirtualSize != int64(len(want)) || info.Identity.DiskID == "" {
		t.Fatalf("info = %+v", info)
	}
	var extData int64
	var next int64
	sc := bufio.NewScanner(bytes.NewReader(execute(t, nil, "extents", top)))
	for sc.Scan() {
		var e ExtentLine
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Offset != next || (e.Kind != "data" && e.Kind != "zero") {
			t.Fatalf("extent line %s after %d", sc.Text(), next)
		}
		if e.Kind == "data" {
			extData += e.Length
		} else if bytes.ContainsFunc(want[e.Offset:e.Offset+e.Length], func(r rune) bool { return r != 0 }) {
			t.Fatalf("zero extent %+v holds data", e)
		}
		next = e.Offset + e.Length
	}
	if next != int64(len(want)) || extData != info.AllocatedBytes || extData >= next {
		t.Fatalf("extents end %d, data %d, info allocated %d", next, extData, info.AllocatedBytes)
	}
	if got := execute(t, nil, "cat", top); !bytes.Equal(got, want) {
		t.Fatal("cat differs from the oracle")
	}
	var r Report
	if err := json.Unmarshal(execute(t, nil, "verify", top), &r); err != nil || !r.OK() || r.DataBytes != extData {
		t.Fatalf("verify = %+v, %v", r, err)
	}
}

// execute runs the disk command with args and returns its stdout; wantErr
// nil means it must succeed.
func execute(t *testing.T, wantErr error, args ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	cmd := New()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.Execute()
	if wantErr == nil && err != nil {
		t.Fatalf("disk %v: %v\n%s", args, err, out.String())
	}
	return out.Bytes()
}

func TestVerify_failsOnBrokenParent(t *testing.T) {
	top, _ := chainFile(t)
	os.Remove(filepath.Join(filepath.Dir(top), "l0.vhd"))
	cmd := New()
	cmd.SetArgs([]string{"verify", top})
	cmd.SetOut(new(bytes.Buffer))
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "parent") {
		t.Fatalf("verify of a chain without its base: %v", err)
	}
}

func TestPump_rejectsBadExtentMaps(t *testing.T) {
	data := bytes.Repeat([]byte{1}, 8192)
	tests := []struct {
		name    string
		extents []vdisk.Extent
		badRead int64
		want    string
	}{
		{"gap", []vdisk.Extent{ext(0, 4096, vdisk.KindData), ext(5000, 3192, vdisk.KindData)}, -1, "expected one at 4096"},
		{"overlap", []vdisk.Extent{ext(0, 4096, vdisk.KindData), ext(2048, 6144, vdisk.KindData)}, -1, "expected one at 4096"},
		{"short", []vdisk.Extent{ext(0, 4096, vdisk.KindData)}, -1, "extents end at 4096"},
		{"beyond_size", []vdisk.Extent{ext(0, 9000, vdisk.KindData)}, -1, "beyond the disk size"},
		{"empty_extent", []vdisk.Extent{ext(0, 0, vdisk.KindData)}, -1, "empty"},
		{"unknown_kind", []vdisk.Extent{ext(0, 8192, 9)}, -1, "unknown kind"},
		{"read_error", []vdisk.Extent{ext(0, 8192, vdisk.KindData)}, 5000, "injected read error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := &fakeImage{data: data, extents: tt.extents, badRead: tt.badRead}
			o := Options{ChunkSize: 4096, Readers: 2}
			err := Cat(context.Background(), img, new(bytes.Buffer), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Cat err = %v, want %q", err, tt.want)
			}
			r := Verify(context.Background(), img, o)
			if r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), tt.want) {
				t.Fatalf("Verify problems = %q, want %q", r.Problems, tt.want)
			}
		})
	}
}

func TestCat_zeroExtentsAreNotRead(t *testing.T) {
	data := make([]byte, 3<<20)
	copy(data[1<<20:], "payload")
	// Reading anywhere in the zero extents fails, so Cat must not read them.
	img := &fakeImage{data: data, badRead: 100, extents: []vdisk.Extent{
		ext(0, 1<<20, vdisk.KindZero), ext(1<<20, 4096, vdisk.KindData), ext(1<<20+4096, 2<<20-4096, vdisk.KindZero)}}
	var out bytes.Buffer
	if err := Cat(context.Background(), img, &out, Options{ChunkSize: 64 << 10, Readers: 4}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("output differs")
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestCat_writerErrorStops(t *testing.T) {
	img := &fakeImage{data: make([]byte, 64<<20), badRead: -1, extents: []vdisk.Extent{ext(0, 64<<20, vdisk.KindData)}}
	err := Cat(context.Background(), img, &failWriter{n: 5 << 20}, Options{ChunkSize: 1 << 20, Readers: 4})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func ext(off, n int64, kind vdisk.Kind) vdisk.Extent {
	return vdisk.Extent{Offset: off, Length: n, Kind: kind}
}

func TestIsZero_positions(t *testing.T) {
	zeros := make([]byte, 1000)
	tests := []struct {
		name string
		size int
		bit  int // index of a non-zero byte, -1 for none
		want bool
	}{
		{"empty", 0, -1, true},
		{"all_zero_several_pieces", 3500, -1, true},
		{"first_byte", 3500, 0, false},
		{"last_byte", 3500, 3499, false},
		{"piece_boundary", 3500, 1000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, tt.size)
			if tt.bit >= 0 {
				b[tt.bit] = 1
			}
			if got := isZero(b, zeros); got != tt.want {
				t.Fatalf("isZero = %v", got)
			}
		})
	}
}
