package hyperv

import (
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/shared/hrl"
	"hvmigrate/shared/vhdx"
)

// writeLog writes a closed HRL file with one write; it returns its id.
func writeLog(t *testing.T, path string, prev hrl.GUID) hrl.GUID {
	t.Helper()
	w, err := hrl.Create(path, hrl.WriterOptions{PreviousUniqueID: prev})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 4096), 8192); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.UniqueID()
}

// reopen rewrites a closed log's header as a log still being written.
func reopen(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hrl.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	h.EOLLocation = 0
	copy(b, h.Marshal())
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestScanLogs_realFiles(t *testing.T) {
	dir := t.TempDir()
	first := writeLog(t, filepath.Join(dir, "web01_1.hrl"), hrl.GUID{})
	second := writeLog(t, filepath.Join(dir, "WEB01_2.HRL"), first)
	writeLog(t, filepath.Join(dir, "web01_3.hrl"), second)
	reopen(t, filepath.Join(dir, "web01_3.hrl"))
	writeLog(t, filepath.Join(dir, "db01_1.hrl"), hrl.GUID{})                                        // another disk
	must(t, os.WriteFile(filepath.Join(dir, "web01_junk.hrl"), make([]byte, hrl.HeaderSize), 0o600)) // not a log
	must(t, os.WriteFile(filepath.Join(dir, "web01_new.hrl"), []byte("msctlog"), 0o600))             // being created
	must(t, os.WriteFile(filepath.Join(dir, "web01.txt"), []byte("x"), 0o600))

	logs, err := scanLogs(dir, "web01")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]logFile{}
	for _, l := range logs {
		got[filepath.Base(l.Path)] = l
	}
	if len(got) != 5 {
		t.Fatalf("scanned %d files: %v", len(got), logs)
	}
	if l := got["web01_1.hrl"]; !l.Closed || l.ID != first.String() || l.Prev != "" {
		t.Errorf("first = %+v", l)
	}
	if l := got["WEB01_2.HRL"]; !l.Closed || l.ID != second.String() || l.Prev != first.String() {
		t.Errorf("second = %+v", l)
	}
	if l := got["web01_3.hrl"]; l.Closed || l.Busy || l.Err != nil || l.Prev != second.String() {
		t.Errorf("open = %+v", l)
	}
	if l := got["web01_junk.hrl"]; l.Err == nil {
		t.Errorf("junk = %+v, want an error", l)
	}
	if l := got["web01_new.hrl"]; !l.Busy {
		t.Errorf("short file = %+v, want busy", l)
	}
	// The logs that are well formed chain up with the open one last.
	chain, err := orderChain([]logFile{got["web01_1.hrl"], got["WEB01_2.HRL"], got["web01_3.hrl"]}, "")
	if err != nil || len(chain) != 2 || chain[1].ID != second.String() {
		t.Errorf("chain = %+v, %v", chain, err)
	}
}

func TestScanLogs_missingFolder(t *testing.T) {
	logs, err := scanLogs(filepath.Join(t.TempDir(), "none"), "x")
	if err != nil || logs != nil {
		t.Fatalf("logs, err = %v, %v; want none, nil", logs, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReadDataWriteGUID_realVHDX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.vhdx")
	w, err := vhdx.Create(path, vhdx.CreateOptions{Size: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(make([]byte, 4096), 0); err != nil {
		t.Fatal(err)
	}
	must(t, w.Close())
	d, err := vhdx.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := d.Identity().DataWriteGUID.String()
	must(t, d.Close())
	got, err := readDataWriteGUID(path)
	if err != nil || got != want || got == "00000000-0000-0000-0000-000000000000" {
		t.Fatalf("readDataWriteGUID = %q, %v; want %q", got, err, want)
	}
	if _, err := readDataWriteGUID(filepath.Join(t.TempDir(), "none.vhdx")); err == nil {
		t.Error("missing file accepted")
	}
}
