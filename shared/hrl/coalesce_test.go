package hrl

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

const propDiskSectors = 64

// genWrites draws writes of whole sectors inside a small disk, each filled
// with bytes that identify the write, so any misplaced byte shows.
func genWrites(t *rapid.T, label string, seed byte) []write {
	n := rapid.IntRange(0, 40).Draw(t, label+" writes")
	ws := make([]write, n)
	for i := range ws {
		sectors := rapid.IntRange(1, 16).Draw(t, label+" sectors")
		first := rapid.IntRange(0, propDiskSectors-sectors).Draw(t, label+" first")
		data := make([]byte, sectors*512)
		for j := range data {
			data[j] = seed + byte(i*31) + byte(j*7) + byte(j>>9)
		}
		ws[i] = write{off: int64(first) * 512, data: data}
	}
	return ws
}

func TestCoalescer_matchesNaiveReplay_chain(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nlogs := rapid.IntRange(1, 4).Draw(t, "logs")
		c := NewCoalescer()
		naive := make([]byte, propDiskSectors*512)
		var prev GUID
		for k := range nlogs {
			ws := genWrites(t, "log", byte(k*50))
			opts := testWriterOptions(rapid.IntRange(1, 127).Draw(t, "per block"))
			opts.PreviousUniqueID = prev
			f := writeLog(t, ws, opts, rapid.IntRange(0, 5).Draw(t, "flush every"))
			l := openMem(t, f, Options{DiskSize: int64(len(naive))})
			if err := c.Add(l); err != nil {
				t.Fatalf("Add log %d: %v", k, err)
			}
			prev = l.Header().UniqueID
			for _, w := range ws {
				copy(naive[w.off:], w.data)
			}
		}
		got := &memFile{b: make([]byte, len(naive))}
		if _, err := c.ApplyTo(got); err != nil {
			t.Fatalf("ApplyTo: %v", err)
		}
		if !bytes.Equal(got.b, naive) {
			t.Fatal("coalesced bytes differ from in-order replay")
		}
		checkExtents(t, c)
	})
}

// checkExtents checks disk order, no overlap, no mergeable neighbours and
// the byte accounting.
func checkExtents(t *rapid.T, c *Coalescer) {
	var prev *Extent
	var surviving int64
	for e := range c.Extents() {
		if e.Length <= 0 {
			t.Fatalf("empty extent %+v", e)
		}
		if prev != nil && prev.Offset+prev.Length > e.Offset {
			t.Fatalf("extents out of order or overlapping: %+v then %+v", *prev, e)
		}
		if prev != nil && prev.Offset+prev.Length == e.Offset && prev.Log == e.Log && prev.FileOffset+prev.Length == e.FileOffset {
			t.Fatalf("extents %+v and %+v should have been merged", *prev, e)
		}
		surviving += e.Length
		prev = &e
	}
	s := c.Stats()
	if s.BytesSurviving != surviving || s.BytesSaved != s.BytesLogged-surviving || s.Extents != c.Len() {
		t.Fatalf("stats %+v disagree with extents (surviving %d)", s, surviving)
	}
}

// TestExtentTree_insert_matchesByteMap drives the tree directly with many
// more operations than the file-level test.
func TestExtentTree_insert_matchesByteMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		const disk = 4096
		tree := newExtentTreeCap(rapid.SampledFrom([]int{2, 4, 16, defaultChunkCap}).Draw(t, "chunk cap"))
		type ref struct {
			file uint32
			foff int64
		}
		want := make([]ref, disk)
		var next int64 = 1
		for range rapid.IntRange(0, 300).Draw(t, "ops") {
			n := rapid.IntRange(1, 200).Draw(t, "n")
			off := rapid.IntRange(0, disk-n).Draw(t, "off")
			file := uint32(rapid.IntRange(0, 2).Draw(t, "file"))
			if rapid.Bool().Draw(t, "continue previous") {
				next -= int64(n) / 2 // regions may touch; they never overlap per file in real logs, but the tree must not care
			}
			tree.insert(int64(off), uint32(n), file, next)
			for i := range n {
				want[off+i] = ref{file, next + int64(i)}
			}
			next += int64(n) + 1
		}
		got := make([]ref, disk)
		end := int64(0)
		tree.walk(func(nd node) bool {
			if nd.off < end {
				t.Fatalf("overlap at %d", nd.off)
			}
			for i := range int64(nd.n) {
				got[nd.off+i] = ref{nd.file, nd.foff + i}
			}
			end = nd.off + int64(nd.n)
			return true
		})
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("byte %d maps to %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}

func TestCoalescer_Add_chainErrors(t *testing.T) {
	ws := []write{{off: 0, data: make([]byte, 512)}}
	first := openMem(t, writeLog(t, ws, testWriterOptions(0), 0), Options{})
	other := openMem(t, writeLog(t, ws, testWriterOptions(0), 0), Options{})
	linkedOpts := testWriterOptions(0)
	linkedOpts.PreviousUniqueID = first.Header().UniqueID
	linked := openMem(t, writeLog(t, ws, linkedOpts, 0), Options{})
	tests := []struct {
		name string
		logs []*Log
		want error
	}{
		{"linked", []*Log{first, linked}, nil},
		{"missing link", []*Log{first, other}, ErrLogChain},
		{"out of order", []*Log{linked, first}, ErrLogChain},
		{"same log twice", []*Log{first, first}, ErrDuplicateLog},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCoalescer()
			var err error
			for _, l := range tt.logs {
				if err = c.Add(l); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
