package vhdx

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dirtyFixture builds a qemu dynamic VHDX with one written block and a
// live log entry that rewrites one 4 KiB sector of that block (digest 6.4).
// It returns the path, the virtual offset of the rewritten sector and its
// new content.
func dirtyFixture(t *testing.T, dir string) (string, int64, []byte) {
	t.Helper()
	path := filepath.Join(dir, "dirty.vhdx")
	qemu(t, "qemu-img", "create", "-f", "vhdx", "-o", "block_size=8M", path, "64M")
	qemu(t, "qemu-io", "-f", "vhdx", "-c", "write -P 0xab 1M 64k", path)
	l, err := openLayer(path, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.batEntry(0)
	hdr, slot, logOff := l.hdr, l.slot, l.log.off
	l.close()
	if err != nil || entryState(e) != stFull {
		t.Fatalf("block 0: entry %#x, %v", e, err)
	}
	content := bytes.Repeat([]byte{0x5a, 0xc3, 0x01, 0x7e}, 1024)
	st, _ := os.Stat(path)
	target := entryOffset(e) + 1<<20 + 8192 // virtual 1 MiB + 8 KiB
	hdr.logGUID, hdr.seq = mustGUID("6e6b4a2c-1f0e-4d3b-9a88-0c1d2e3f4a5b"), hdr.seq+1
	entry := encodeLogEntry(hdr.logGUID, 7, []int64{target}, map[int64][]byte{target: content}, st.Size(), st.Size())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(entry, logOff); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(hdr.encode(), []int64{header1Off, header2Off}[slot]); err != nil {
		t.Fatal(err)
	}
	return path, 1<<20 + 8192, content
}

func TestOpen_logReplay_inMemory(t *testing.T) {
	path, voff, content := dirtyFixture(t, t.TempDir())
	before := fileSum(t, path)
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, d)
	d.Close()
	if !bytes.Equal(got[voff:voff+4096], content) {
		t.Fatalf("replayed sector not visible")
	}
	if fileSum(t, path) != before {
		t.Fatal("Open modified the file")
	}
	// qemu refuses read-only opens; its repair must give the same bytes.
	repaired := filepath.Join(t.TempDir(), "repaired.vhdx")
	copyFile(t, path, repaired)
	qemu(t, "qemu-img", "check", "-r", "all", "-f", "vhdx", repaired)
	if i := firstDiff(got, qemuRaw(t, repaired)); i >= 0 {
		t.Fatalf("in-memory replay differs from qemu's repair at %d", i)
	}
}

func TestOpen_logReplay_readOnlyFilesystem(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Log("running as root: permission bits do not bind, checking O_RDONLY use only")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path, voff, content := dirtyFixture(t, dir)
	before := fileSum(t, path)
	os.Chmod(path, 0o400)
	os.Chmod(dir, 0o500)
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 4096)
	if _, err := d.ReadAt(buf, voff); err != nil || !bytes.Equal(buf, content) {
		t.Fatalf("ReadAt: %v, replayed content visible=%v", err, bytes.Equal(buf, content))
	}
	if fileSum(t, path) != before {
		t.Fatal("file changed")
	}
}

func TestOpen_logReplay_errors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, path string)
		want   error
	}{
		{"flushed_offset_beyond_file", func(t *testing.T, path string) {
			rewriteLogEntry(t, path, func(b []byte) { put64(b[48:], 1<<40) })
		}, ErrLogReplay},
		{"target_inside_headers", func(t *testing.T, path string) {
			rewriteLogEntry(t, path, func(b []byte) { put64(b[64+16:], 64<<10) })
		}, ErrLogReplay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _, _ := dirtyFixture(t, t.TempDir())
			tt.mutate(t, path)
			_, err := Open(path)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			t.Log(err)
		})
	}
}

func TestOpen_logReplay_badCRCmeansNoActiveSequence(t *testing.T) {
	path, voff, content := dirtyFixture(t, t.TempDir())
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, 1<<20+100) // inside the entry header: CRC now wrong
	f.Close()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf := make([]byte, 4096)
	d.ReadAt(buf, voff)
	if bytes.Equal(buf, content) {
		t.Fatal("entry with a bad CRC was replayed")
	}
}

// rewriteLogEntry edits the first log entry (at 1 MiB) and fixes its CRC.
func rewriteLogEntry(t *testing.T, path string, edit func([]byte)) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 8192)
	f.ReadAt(b, 1<<20)
	edit(b)
	putCRC(b, 4)
	f.WriteAt(b, 1<<20)
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpen_logReplay_brokenActiveSequence(t *testing.T) {
	path, _, _ := dirtyFixture(t, t.TempDir())
	l, err := openLayer(path, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	guid := l.hdr.logGUID
	l.close()
	// A second entry (sequence 8) at 8 KiB whose tail points at the first
	// entry; then the first entry's CRC is broken.
	sec := bytes.Repeat([]byte{9}, 4096)
	e2 := encodeLogEntry(guid, 8, []int64{3 << 20}, map[int64][]byte{3 << 20: sec}, 16<<20, 16<<20)
	put32(e2[12:], 0)
	putCRC(e2, 4)
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt(e2, 1<<20+8192)
	f.WriteAt([]byte{0xff}, 1<<20+100)
	f.Close()
	_, err = Open(path)
	if !errors.Is(err, ErrLogReplay) {
		t.Fatalf("Open: %v, want ErrLogReplay", err)
	}
	t.Log(err)
}
