package vhdx

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seeds under testdata/fuzz")

// fuzzSeeds are the committed seed inputs, one set of arguments per seed.
func fuzzSeeds() map[string][][]any {
	m := fuzzTemplate(false)
	log := make([]byte, 2*logSector)
	m.ReadAt(log, miB)
	bat := make([]byte, 64)
	fuzzTemplate(true).ReadAt(bat, 3*miB)
	h := header{seq: 5, version: 1, logLength: uint32(miB), logOffset: uint64(miB)}
	meta := metadataRegion(params{blockSize: miB, size: 8 * miB, logical: 512, physical: 512, hasParent: true,
		locator: encodeLocator([][2]string{{keyLinkage, "{11111111-2222-4333-8444-555555555555}"}, {keyAbsolute, `C:\a.vhdx`}})})
	return map[string][][]any{
		"FuzzOpen":          {{[]byte{0}}, {[]byte{3}}, {append([]byte{2}, h.encode()[:128]...)}},
		"FuzzHeader":        {{h.encode(), h.encode()}},
		"FuzzRegionTable":   {{newLayout(newGeometry(params{blockSize: miB, size: 8 * miB, logical: 512}), miB).regionTable()[:128], true}},
		"FuzzMetadataTable": {{meta}},
		"FuzzLogEntry":      {{log, true}},
		"FuzzParentLocator": {{encodeLocator([][2]string{{keyLinkage, "{11111111-2222-4333-8444-555555555555}"}, {keyRelative, `..\p.vhdx`}})}},
		"FuzzBAT":           {{bat, uint8(1)}, {bat, uint8(0)}},
	}
}

// TestFuzzSeeds_committed checks (or, with -update, writes) the seed files.
func TestFuzzSeeds_committed(t *testing.T) {
	for name, seeds := range fuzzSeeds() {
		for i, args := range seeds {
			path := filepath.Join("testdata", "fuzz", name, fmt.Sprintf("seed-%d", i))
			want := encodeCorpus(args)
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is stale or missing (run go test -run TestFuzzSeeds -update): %v", path, err)
			}
		}
	}
}

// encodeCorpus renders arguments in the go fuzz corpus file format.
func encodeCorpus(args []any) string {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		}
	}
	return b.String()
}
