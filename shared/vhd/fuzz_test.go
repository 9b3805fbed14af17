package vhd

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd/vhdtest"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seeds under testdata/fuzz")

// seedFiles are small valid files of every type, the starting points of
// the fuzz corpora.
func seedFiles() map[string][]byte {
	dyn := vhdtest.New(vhdtest.Dynamic, 16<<10, guid(1))
	dyn.BlockSize = 2048
	dyn.Write(0, bytes.Repeat([]byte{1}, 512))
	dyn.Write(8192, bytes.Repeat([]byte{2}, 3072))
	diff := vhdtest.New(vhdtest.Differencing, 16<<10, guid(2))
	diff.BlockSize = 2048
	diff.Parent = &vhdtest.Parent{UniqueID: guid(1), TimeStamp: 1000, Name: "seed.vhd", Relative: `.\seed.vhd`, Absolute: `C:\x\seed.vhd`}
	diff.Write(4096, bytes.Repeat([]byte{3}, 1024))
	fixed := vhdtest.New(vhdtest.Fixed, 4096, guid(3))
	fixed.Write(512, bytes.Repeat([]byte{4}, 512))
	return map[string][]byte{"dynamic": dyn.Bytes(), "differencing": diff.Bytes(), "fixed": fixed.Bytes()}
}

// TestFuzzSeeds_update rewrites the committed seed corpora when -update is
// given, and otherwise checks that they exist.
func TestFuzzSeeds_update(t *testing.T) {
	footer, _ := AzureFixedFooter(mib, vdisk.GUID{7}, time.Unix(vhdEpochUnix+1, 0))
	seeds := map[string]map[string][]byte{"FuzzOpen": seedFiles(), "FuzzFooter": {"azure": footer}, "FuzzDynamicHeader": {}}
	for name, b := range seedFiles() {
		seeds["FuzzFooter"][name] = b[len(b)-FooterSize:]
		if name != "fixed" {
			seeds["FuzzDynamicHeader"][name] = b[FooterSize : FooterSize+HeaderSize]
		}
	}
	for target, files := range seeds {
		for name, b := range files {
			p := filepath.Join("testdata", "fuzz", target, name)
			if !*update {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("missing seed (run with -update): %v", err)
				}
				continue
			}
			os.MkdirAll(filepath.Dir(p), 0o755)
			entry := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
			if target == "FuzzDynamicHeader" {
				entry = fmt.Appendf(entry, "uint64(%d)\n", 16<<10)
			}
			if err := os.WriteFile(p, entry, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func FuzzFooter(f *testing.F) {
	for _, b := range seedFiles() {
		f.Add(b[len(b)-FooterSize:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ft, err := decodeFooter("fuzz", b)
		if err != nil {
			return
		}
		l := &layer{path: "fuzz", footer: ft, fileSize: int64(len(b)), footerLen: int64(len(b))}
		_ = l.validateFooter()
		if len(b) != FooterSize || !bytes.Equal(b[85:], make([]byte, 427)) {
			return
		}
		out, _ := ft.MarshalBinary()
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoded footer differs:\n%x\n%x", out, b)
		}
	})
}

func FuzzDynamicHeader(f *testing.F) {
	for name, b := range seedFiles() {
		if name != "fixed" {
			f.Add(b[FooterSize:FooterSize+HeaderSize], uint64(16<<10))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, size uint64) {
		h, err := decodeHeader("fuzz", b)
		if err != nil {
			return
		}
		ft := Footer{CurrentSize: size, DiskType: TypeDifferencing}
		if validateHeader("fuzz", &h, &ft) != nil {
			return
		}
		if h.BlockSize < 512 || h.BlockSize&(h.BlockSize-1) != 0 || (size+uint64(h.BlockSize)-1)/uint64(h.BlockSize) > uint64(h.MaxTableEntries) {
			t.Fatalf("accepted header %+v for size %d", h, size)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, b := range seedFiles() {
		f.Add(b)
	}
	// One file per worker process, rewritten for every input: creating a
	// directory per input makes the file system, not the parser, the limit.
	p := filepath.Join(f.TempDir(), "seed.vhd") // a differencing disk may name itself
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<18 {
			return // keep every input fast
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Open(p)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error without a FormatError: %v", err)
			}
			return
		}
		defer d.Close()
		exerciseDisk(t, d)
	})
}

// exerciseDisk reads the first and last 64 KiB and walks the extents,
// checking that they tile the disk.
func exerciseDisk(t *testing.T, d *Disk) {
	buf := make([]byte, 64<<10)
	for _, off := range []int64{0, max(0, d.Size()-int64(len(buf)))} {
		if _, err := d.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadAt: %v", err)
			}
		}
	}
	var next int64
	for e, err := range d.Extents() {
		if err != nil {
			return
		}
		if e.Offset != next || e.Length <= 0 {
			t.Fatalf("extent %+v after %d", e, next)
		}
		next = e.End()
	}
	if next != d.Size() {
		t.Fatalf("extents end at %d of %d", next, d.Size())
	}
}
