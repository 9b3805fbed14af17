package diskfile

import (
	"bytes"
	"testing"
)

// FuzzSniff checks that sniffing never fails on readable content and only
// reports a format whose magic is where it says.
func FuzzSniff(f *testing.F) {
	f.Add([]byte("vhdxfile" + string(make([]byte, 600))))
	f.Add(append(make([]byte, 1024), []byte("conectix"+string(make([]byte, 504)))...))
	f.Add([]byte("conectix"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		format, err := sniffContent(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("sniffContent: %v", err)
		}
		at := func(off int, magic string) bool {
			return off >= 0 && off+8 <= len(b) && string(b[off:off+8]) == magic
		}
		switch format {
		case FormatVHDX:
			if !at(0, "vhdxfile") {
				t.Fatal("vhdx without signature")
			}
		case FormatVHD:
			if !at(0, "conectix") && !at(len(b)-512, "conectix") && !at(len(b)-511, "conectix") {
				t.Fatal("vhd without cookie")
			}
		case "":
			if at(0, "vhdxfile") || at(0, "conectix") || at(len(b)-512, "conectix") {
				t.Fatal("magic missed")
			}
		}
	})
}
