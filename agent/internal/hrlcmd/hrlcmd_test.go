package hrlcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hvmigrate/shared/hrl"
)

// writeLog writes a log of n 4 KiB writes, each to offset (i%4)*4096, and
// returns its path and UniqueId.
func writeLog(t *testing.T, dir, name string, n int, prev hrl.GUID) (string, hrl.GUID) {
	t.Helper()
	path := filepath.Join(dir, name)
	o := hrl.DefaultWriterOptions()
	o.PreviousUniqueID = prev
	o.EntriesPerBlock = 3
	w, err := hrl.Create(path, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := w.WriteAt(bytes.Repeat([]byte{byte(i + 1)}, 4096), int64(i%4)*4096); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, w.UniqueID()
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := New()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestNew_dump_printsEntries(t *testing.T) {
	path, id := writeLog(t, t.TempDir(), "a.hrl", 7, hrl.GUID{})
	out, err := run(t, "dump", path)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Header struct {
			UniqueID string `json:"unique_id"`
			Cookie   string `json:"cookie"`
		} `json:"header"`
		Blocks  []hrl.Block `json:"blocks"`
		Entries []hrl.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("dump is not JSON: %v\n%s", err, out)
	}
	if got.Header.UniqueID != id.String() || got.Header.Cookie != "msctlog" || len(got.Entries) != 7 || len(got.Blocks) != 1+3 {
		t.Fatalf("dump = %+v", got)
	}
	for i, e := range got.Entries {
		if e.ByteOffset != uint64(i%4)*4096 || e.DataLength != 4096 {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
}

func TestNew_verify_namedError(t *testing.T) {
	dir := t.TempDir()
	good, _ := writeLog(t, dir, "good.hrl", 5, hrl.GUID{})
	if out, err := run(t, "verify", good); err != nil || !strings.Contains(out, "ok: 3 blocks, 5 entries") {
		t.Fatalf("verify good: %q, %v", out, err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	b[hrl.HeaderSize+hrl.DefaultMetadataSize+100] ^= 1 // first write's data, after the leading empty block
	bad := filepath.Join(dir, "bad.hrl")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "verify", bad)
	if !errors.Is(err, hrl.ErrChecksum) || !strings.Contains(err.Error(), "bad.hrl") {
		t.Fatalf("verify bad: err = %v, want ErrChecksum naming the file", err)
	}
	if _, err := run(t, "verify", "--expect-data-write-guid", "01234567-89ab-cdef-0123-456789abcdef", good); !errors.Is(err, hrl.ErrDataWriteGUID) {
		t.Fatalf("verify with another data write guid: err = %v", err)
	}
}

func TestNew_extents_chain(t *testing.T) {
	dir := t.TempDir()
	first, id := writeLog(t, dir, "1.hrl", 6, hrl.GUID{})
	second, _ := writeLog(t, dir, "2.hrl", 2, id)
	out, err := run(t, "extents", first, second)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Extents        []hrl.Extent `json:"extents"`
		BytesLogged    int64        `json:"bytes_logged"`
		BytesSurviving int64        `json:"bytes_surviving"`
		BytesSaved     int64        `json:"bytes_saved"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// 8 writes of 4 KiB onto 4 slots: 16 KiB survive; slots 0 and 1 come
	// from the second log, slots 2 and 3 from the first.
	if rep.BytesLogged != 8*4096 || rep.BytesSurviving != 4*4096 || rep.BytesSaved != 4*4096 {
		t.Fatalf("report %+v", rep)
	}
	if len(rep.Extents) < 2 || rep.Extents[0].Log != 1 || rep.Extents[len(rep.Extents)-1].Log != 0 {
		t.Fatalf("extents %+v", rep.Extents)
	}
	if _, err := run(t, "extents", second, first); !errors.Is(err, hrl.ErrLogChain) {
		t.Fatalf("reversed chain: err = %v, want ErrLogChain", err)
	}
}
