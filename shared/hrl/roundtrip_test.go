package hrl

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestWriter_RoundTrip_randomWrites(t *testing.T) {
	const diskSize = 1 << 20
	tests := []struct {
		name       string
		writes     int
		perBlock   int
		flushEvery int
		minEmpty   int
	}{
		{"one write", 1, 0, 0, 1},
		{"full blocks", 600, 0, 0, 1},
		{"small blocks", 300, 7, 0, 1},
		{"empty blocks", 200, 3, 3, 1 + 200/3},
		{"one entry per block", 50, 1, 0, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 42))
			ws := randomWrites(r, tt.writes, diskSize)
			f := writeLog(t, ws, testWriterOptions(tt.perBlock), tt.flushEvery)
			l := openMem(t, f, Options{DiskSize: diskSize})
			if err := l.Verify(); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := make([]byte, diskSize)
			for _, w := range ws {
				copy(want[w.off:], w.data)
			}
			got := make([]byte, diskSize)
			replay(t, l, got)
			if !bytes.Equal(got, want) {
				t.Fatal("replayed disk differs from the directly written disk")
			}
			coalesced := &memFile{b: make([]byte, diskSize)}
			c := NewCoalescer()
			if err := c.Add(l); err != nil {
				t.Fatalf("Coalescer.Add: %v", err)
			}
			if _, err := c.ApplyTo(coalesced); err != nil {
				t.Fatalf("ApplyTo: %v", err)
			}
			if !bytes.Equal(coalesced.b, want) {
				t.Fatal("coalesced disk differs from the directly written disk")
			}
			checkLogShape(t, l, ws, tt.perBlock, tt.minEmpty)
		})
	}
}

// checkLogShape checks header totals and that blocks hold what was asked.
func checkLogShape(t *testing.T, l *Log, ws []write, perBlock, minEmpty int) {
	t.Helper()
	h := l.Header()
	if h.TotalMetadataEntries != uint64(len(ws)) || l.EntryCount() != int64(len(ws)) {
		t.Errorf("TotalMetadataEntries %d, EntryCount %d, want %d", h.TotalMetadataEntries, l.EntryCount(), len(ws))
	}
	if h.EOLLocation != h.CurrentSize {
		t.Errorf("EOLLocation %d != CurrentSize %d", h.EOLLocation, h.CurrentSize)
	}
	empty := 0
	for _, b := range l.Blocks() {
		if b.ValidEntries == 0 {
			empty++
		}
		if perBlock > 0 && b.ValidEntries > perBlock {
			t.Errorf("block %d holds %d entries, limit %d", b.Index, b.ValidEntries, perBlock)
		}
	}
	if empty < minEmpty {
		t.Errorf("%d empty blocks, want at least %d", empty, minEmpty)
	}
	if warnings, dropped := l.Warnings(); len(warnings) > 0 || dropped > 0 {
		t.Errorf("unexpected warnings: %v (+%d)", warnings, dropped)
	}
}
