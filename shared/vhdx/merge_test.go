package vhdx

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"testing"
)

func TestMerge_chain_matchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	paths, want := buildChain(t, t.TempDir(), 3, CreateOptions{Size: 16 << 20, BlockSize: 1 << 20}, rng)
	if err := Merge(paths[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(paths[2]); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("child still there: %v", err)
	}
	checkImage(t, paths[1], want, false)
	if err := Merge(paths[1]); err != nil {
		t.Fatal(err)
	}
	checkImage(t, paths[0], want, true)
}

func TestMerge_interrupted_rerunCompletes(t *testing.T) {
	tests := []struct {
		name      string
		interrupt func(t *testing.T, child, parent string)
	}{
		{"after_relink", func(t *testing.T, child, parent string) {
			if err := relink(child, currentDWG(t, parent), mustGUID("11111111-2222-4333-8444-555555555555")); err != nil {
				t.Fatal(err)
			}
		}},
		{"after_partial_copy", func(t *testing.T, child, parent string) {
			next := mustGUID("11111111-2222-4333-8444-666666666666")
			if err := relink(child, currentDWG(t, parent), next); err != nil {
				t.Fatal(err)
			}
			pw, err := openWriter(parent, next)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Open(child)
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1<<20)
			c.ReadAt(buf, 3<<20) // the child's view of one block
			pw.WriteAt(buf, 3<<20)
			c.Close()
			pw.Close()
		}},
		{"after_full_copy", func(t *testing.T, child, parent string) {
			next := mustGUID("11111111-2222-4333-8444-777777777777")
			if err := relink(child, currentDWG(t, parent), next); err != nil {
				t.Fatal(err)
			}
			if err := mergeData(child, parent, next); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 5))
			paths, want := buildChain(t, t.TempDir(), 3, CreateOptions{Size: 16 << 20, BlockSize: 1 << 20}, rng)
			tt.interrupt(t, paths[2], paths[1])
			checkImage(t, paths[2], want, false) // the chain still reads the same
			if err := Merge(paths[2]); err != nil {
				t.Fatal(err)
			}
			checkImage(t, paths[1], want, false)
		})
	}
}

func currentDWG(t *testing.T, path string) [16]byte {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	return d.Identity().DataWriteGUID
}
