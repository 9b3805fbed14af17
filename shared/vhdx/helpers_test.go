package vhdx

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vdisk"
)

// qemu runs a qemu tool and fails the test on error.
func qemu(t testing.TB, tool string, args ...string) string {
	t.Helper()
	bin := testenv.LookTool(t, tool)
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

// qemuRaw converts a VHDX to raw with qemu-img and returns the bytes.
func qemuRaw(t testing.TB, path string) []byte {
	t.Helper()
	raw := filepath.Join(t.TempDir(), "out.raw")
	qemu(t, "qemu-img", "convert", "-f", "vhdx", "-O", "raw", path, raw)
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads the whole virtual disk with ReadAt in odd-sized pieces.
func readAll(t testing.TB, img vdisk.Image) []byte {
	t.Helper()
	out := make([]byte, img.Size())
	const piece = 3*1024*1024 + 512
	for off := int64(0); off < img.Size(); off += piece {
		end := min(off+piece, img.Size())
		n, err := img.ReadAt(out[off:end], off)
		if err != nil && !(err == io.EOF && end == img.Size()) {
			t.Fatalf("ReadAt(%d, %d): n=%d err=%v", off, end-off, n, err)
		}
		if n != int(end-off) {
			t.Fatalf("ReadAt(%d): n=%d want %d", off, n, end-off)
		}
	}
	return out
}

// collectExtents lists the extents and checks that they tile [0, size).
func collectExtents(t testing.TB, img vdisk.Image) []vdisk.Extent {
	t.Helper()
	var es []vdisk.Extent
	next := int64(0)
	for e, err := range img.Extents() {
		if err != nil {
			t.Fatalf("Extents: %v", err)
		}
		if e.Offset != next || e.Length <= 0 {
			t.Fatalf("extent %+v does not continue at %d", e, next)
		}
		next = e.End()
		es = append(es, e)
	}
	if next != img.Size() {
		t.Fatalf("extents end at %d, size %d", next, img.Size())
	}
	return es
}

// checkExtentsCover fails if a zero extent holds a non-zero byte of want.
func checkExtentsCover(t testing.TB, es []vdisk.Extent, want []byte) {
	t.Helper()
	for _, e := range es {
		if e.Kind != vdisk.KindZero {
			continue
		}
		if i := firstNonZero(want[e.Offset:e.End()]); i >= 0 {
			t.Fatalf("zero extent %+v holds non-zero data at %d", e, e.Offset+int64(i))
		}
	}
}

// firstNonZero returns the index of the first non-zero byte, or -1.
func firstNonZero(b []byte) int {
	zero := make([]byte, 64<<10)
	for off := 0; off < len(b); off += len(zero) {
		chunk := b[off:min(off+len(zero), len(b))]
		if !bytes.Equal(chunk, zero[:len(chunk)]) {
			return off + bytes.IndexFunc(chunk, func(r rune) bool { return r != 0 })
		}
	}
	return -1
}

// firstDiff returns the first offset where a and b differ, or -1.
func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}
