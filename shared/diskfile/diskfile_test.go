package diskfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
	"hvmigrate/shared/vhd/vhdtest"
)

// fixedVHD is a 1 MiB fixed VHD (data then an Azure footer).
func fixedVHD(t *testing.T) []byte {
	t.Helper()
	footer, err := vhd.AzureFixedFooter(1<<20, vdisk.GUID{1}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	copy(data[4096:], "fixed")
	return append(data, footer...)
}

func dynamicVHD() []byte {
	im := vhdtest.New(vhdtest.Dynamic, 1<<20, [16]byte{2})
	im.Write(4096, append([]byte("dynamic"), make([]byte, 505)...))
	return im.Bytes()
}

func TestOpen_sniffsFormat(t *testing.T) {
	raw := make([]byte, 1<<20)
	copy(raw[4096:], "rawdisk")
	tests := []struct {
		name       string
		file       string
		content    []byte
		wantFormat string
		wantText   string // at offset 4096
		wantErr    error
	}{
		{"fixed_vhd_any_name", "disk.bin", fixedVHD(t), "vhd", "fixed", nil},
		{"dynamic_vhd_named_img", "disk.img", dynamicVHD(), "vhd", "dynamic", nil},
		{"raw_by_extension", "disk.raw", raw, "raw", "rawdisk", nil},
		{"raw_by_extension_upper_case", "DISK.IMG", raw, "raw", "rawdisk", nil},
		{"unknown_name", "disk.vhd", raw, "", "", ErrUnknownFormat},
		{"empty_unknown", "empty.bin", nil, "", "", ErrUnknownFormat},
		{"damaged_vhd_is_not_raw", "disk.vhd", append(fixedVHD(t)[:1<<20], make([]byte, 512)...), "", "", ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := Open(p)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || img != nil {
					t.Fatalf("Open = %v, %v; want nil, %v", img, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if got := img.Describe().Format; got != tt.wantFormat {
				t.Fatalf("format %q, want %q", got, tt.wantFormat)
			}
			buf := make([]byte, len(tt.wantText))
			if _, err := img.ReadAt(buf, 4096); err != nil || string(buf) != tt.wantText {
				t.Fatalf("ReadAt = %q, %v", buf, err)
			}
		})
	}
}

func TestOpen_brokenVHDIsAnError(t *testing.T) {
	b := dynamicVHD()
	b[len(b)-1] ^= 1 // tail footer checksum
	b[511] ^= 1      // head copy checksum
	p := filepath.Join(t.TempDir(), "bad.img")
	os.WriteFile(p, b, 0o644)
	img, err := Open(p)
	if !errors.Is(err, vhd.ErrBadChecksum) || img != nil {
		t.Fatalf("Open = %v, %v; want a checksum error and a nil Image", img, err)
	}
}

func TestOpen_vhdxFromQemu(t *testing.T) {
	qemuImg := testenv.LookTool(t, "qemu-img")
	qemuIO := testenv.LookTool(t, "qemu-io")
	p := filepath.Join(t.TempDir(), "d.disk")
	for _, args := range [][]string{
		{qemuImg, "create", "-q", "-f", "vhdx", p, "64M"},
		{qemuIO, "-f", "vhdx", "-c", "write -P 0xab 1M 64k", p},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	img, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	buf := make([]byte, 64<<10)
	if img.Describe().Format != "vhdx" || img.Size() != 64<<20 {
		t.Fatalf("Describe %+v size %d", img.Describe(), img.Size())
	}
	if _, err := img.ReadAt(buf, 1<<20); err != nil || !bytes.Equal(buf, bytes.Repeat([]byte{0xab}, len(buf))) {
		t.Fatalf("ReadAt: %v", err)
	}
}
