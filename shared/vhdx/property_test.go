package vhdx

import (
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vdisk"
	"pgregory.net/rapid"
)

// chainModel drives a chain of writers against a raw model.
type chainModel struct {
	dir   string
	paths []string
	top   *Writer
	raw   []byte
	ss    int64
}

func (m *chainModel) write(t *rapid.T) {
	sectors := int64(len(m.raw)) / m.ss
	n := rapid.Int64Range(1, min(sectors, 3*(1<<20)/m.ss)).Draw(t, "sectors")
	s := rapid.Int64Range(0, sectors-n).Draw(t, "start")
	p := pattern(byte(rapid.IntRange(0, 255).Draw(t, "seed")), int(n*m.ss))
	if _, err := m.top.WriteAt(p, s*m.ss); err != nil {
		t.Fatal(err)
	}
	copy(m.raw[s*m.ss:], p)
}

func (m *chainModel) snapshot(t *rapid.T) {
	if len(m.paths) >= 5 {
		t.Skip("chain deep enough")
	}
	m.close(t)
	path := filepath.Join(m.dir, fmt.Sprintf("l%d.avhdx", len(m.paths)))
	bs := rapid.SampledFrom([]int64{1 << 20, 2 << 20}).Draw(t, "block")
	w, err := CreateDifferencing(path, m.paths[len(m.paths)-1], CreateOptions{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	m.top, m.paths = w, append(m.paths, path)
}

func (m *chainModel) merge(t *rapid.T) {
	if len(m.paths) < 2 {
		t.Skip("nothing to merge")
	}
	m.close(t)
	if err := Merge(m.paths[len(m.paths)-1]); err != nil {
		t.Fatal(err)
	}
	m.paths = m.paths[:len(m.paths)-1]
	m.reopen(t)
}

func (m *chainModel) reopen(t *rapid.T) {
	m.close(t)
	w, err := OpenWriter(m.paths[len(m.paths)-1])
	if err != nil {
		t.Fatal(err)
	}
	m.top = w
}

func (m *chainModel) close(t *rapid.T) {
	if m.top != nil {
		if err := m.top.Close(); err != nil {
			t.Fatal(err)
		}
		m.top = nil
	}
}

func (m *chainModel) check(t *rapid.T) {
	got := make([]byte, len(m.raw))
	if _, err := m.top.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(got, m.raw); i >= 0 {
		t.Fatalf("differs from the model at %d (chain of %d)", i, len(m.paths))
	}
	next := int64(0)
	for e, err := range m.top.Extents() {
		if err != nil || e.Offset != next {
			t.Fatalf("extent %+v at %d: %v", e, next, err)
		}
		if e.Kind == vdisk.KindZero && firstNonZero(m.raw[e.Offset:e.End()]) >= 0 {
			t.Fatalf("zero extent %+v holds data", e)
		}
		next = e.End()
	}
}

func TestWriter_property_chainMatchesModel(tt *testing.T) {
	// Every write fsyncs; 12 cases keep the test near 20 s unless
	// -rapid.checks asks for more.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue {
		flag.Set("rapid.checks", "12")
		defer flag.Set("rapid.checks", f.DefValue)
	}
	rapid.Check(tt, func(t *rapid.T) {
		ss := rapid.SampledFrom([]int64{512, 4096}).Draw(t, "sector")
		m := &chainModel{dir: tt.TempDir(), ss: ss, raw: make([]byte, 6<<20)}
		path := filepath.Join(m.dir, "base.vhdx")
		w, err := Create(path, CreateOptions{Size: 6 << 20, BlockSize: 1 << 20, LogicalSectorSize: int(ss)})
		if err != nil {
			t.Fatal(err)
		}
		m.top, m.paths = w, []string{path}
		defer m.close(t)
		t.Repeat(map[string]func(*rapid.T){
			"write": m.write, "snapshot": m.snapshot, "merge": m.merge, "reopen": m.reopen, "": m.check,
		})
	})
}
