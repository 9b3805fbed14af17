package vhdx

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vdisk"
)

// oracle applies writes to a raw image in memory.
type oracle struct{ b []byte }

func (o *oracle) write(t testing.TB, w *Writer, p []byte, off int64) {
	t.Helper()
	if n, err := w.WriteAt(p, off); err != nil || n != len(p) {
		t.Fatalf("WriteAt(%d, %d): %d, %v", off, len(p), n, err)
	}
	copy(o.b[off:], p)
}

// pattern returns n bytes that differ from one sector to the next.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed ^ byte(i/512) ^ byte(i)
	}
	return b
}

// checkImage compares our reader and (when it can read the file) qemu with
// the oracle and runs qemu-img check.
func checkImage(t *testing.T, path string, want []byte, qemuToo bool) {
	t.Helper()
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, d)
	checkExtentsCover(t, collectExtents(t, d), want)
	d.Close()
	if i := firstDiff(got, want); i >= 0 {
		t.Fatalf("our reader differs from the oracle at %d", i)
	}
	if !qemuToo {
		return
	}
	qemu(t, "qemu-img", "check", "-f", "vhdx", path)
	if i := firstDiff(qemuRaw(t, path), want); i >= 0 {
		t.Fatalf("qemu-img convert differs from the oracle at %d", i)
	}
}

func TestCreate_WriteAt_matchesOracleAndQemu(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		opts CreateOptions
		qemu bool
	}{
		{"dynamic_1M_512", CreateOptions{Size: 48 * mib, BlockSize: mib}, true},
		{"dynamic_32M_default", CreateOptions{Size: 100*mib + 512}, true},
		{"dynamic_8M_4k", CreateOptions{Size: 64 * mib, BlockSize: 8 * mib, LogicalSectorSize: 4096}, false},
		{"fixed_2M", CreateOptions{Size: 20 * mib, BlockSize: 2 * mib, Fixed: true}, true},
		{"dynamic_256M", CreateOptions{Size: 300 * mib, BlockSize: 256 * mib}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "w.vhdx")
			w, err := Create(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			o := &oracle{b: make([]byte, w.Size())}
			ss := int64(w.LogicalSectorSize())
			bs := w.l.geo.blockSize
			o.write(t, w, pattern(1, 64<<10), mib)
			o.write(t, w, pattern(2, int(2*ss)), bs-ss)     // crosses a block boundary
			o.write(t, w, pattern(3, int(ss)), w.Size()-ss) // last sector
			big := min(bs, 4<<20) + 2*ss
			o.write(t, w, pattern(4, int(big)), min(2*bs-ss, w.Size()-big)) // crosses a boundary
			o.write(t, w, pattern(5, 4096), mib+4096)                       // overwrite in place
			got := make([]byte, 64<<10)
			if _, err := w.ReadAt(got, mib); err != nil || !bytes.Equal(got, o.b[mib:mib+64<<10]) {
				t.Fatalf("Writer.ReadAt: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			checkImage(t, path, o.b, tt.qemu)
		})
	}
}

func TestWriter_WriteAt_rejectsUnaligned(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "w.vhdx"), CreateOptions{Size: 8 << 20, BlockSize: 1 << 20, LogicalSectorSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, c := range []struct{ off, n int64 }{{512, 4096}, {0, 512}, {8 << 20, 4096}, {-4096, 4096}} {
		if _, err := w.WriteAt(make([]byte, c.n), c.off); !errors.Is(err, ErrAlignment) {
			t.Errorf("WriteAt(%d, %d): %v, want ErrAlignment", c.off, c.n, err)
		}
	}
}

// chainLayer is one disk of a test chain with its oracle.
func buildChain(t *testing.T, dir string, depth int, opts CreateOptions, rng *rand.Rand) ([]string, []byte) {
	t.Helper()
	var paths []string
	o := &oracle{}
	for k := range depth {
		path := filepath.Join(dir, "d"+string(rune('0'+k))+".vhdx")
		var w *Writer
		var err error
		if k == 0 {
			w, err = Create(path, opts)
		} else {
			w, err = CreateDifferencing(path, paths[k-1], CreateOptions{BlockSize: opts.BlockSize})
		}
		if err != nil {
			t.Fatal(err)
		}
		if o.b == nil {
			o.b = make([]byte, w.Size())
		}
		randomWrites(t, w, o, rng, 12)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths, o.b
}

// randomWrites makes n writes of random sector-aligned ranges.
func randomWrites(t testing.TB, w *Writer, o *oracle, rng *rand.Rand, n int) {
	ss := int64(w.LogicalSectorSize())
	for range n {
		sectors := w.Size() / ss
		l := 1 + rng.Int64N(min(sectors, 3*w.l.geo.blockSize/ss))
		if rng.IntN(3) == 0 {
			l = 1 + rng.Int64N(8)
		}
		s := rng.Int64N(sectors - l + 1)
		o.write(t, w, pattern(byte(rng.IntN(256)), int(l*ss)), s*ss)
	}
}

func TestCreateDifferencing_chain_matchesOracle(t *testing.T) {
	tests := []struct {
		name string
		opts CreateOptions
	}{
		{"512_1M", CreateOptions{Size: 24 << 20, BlockSize: 1 << 20}},
		{"4k_2M", CreateOptions{Size: 40 << 20, BlockSize: 2 << 20, LogicalSectorSize: 4096}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.name))))
			paths, want := buildChain(t, t.TempDir(), 4, tt.opts, rng)
			checkImage(t, paths[len(paths)-1], want, false)
			d, err := Open(paths[len(paths)-1])
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			desc := d.Describe()
			depth := 0
			for p := &desc; p != nil; p = p.Parent {
				depth++
			}
			if depth != 4 || desc.Subformat != "differencing" {
				t.Fatalf("Describe: depth %d, %+v", depth, desc)
			}
		})
	}
}

func TestOpen_chain_parentChangedIsMismatch(t *testing.T) {
	dir := t.TempDir()
	paths, _ := buildChain(t, dir, 2, CreateOptions{Size: 8 << 20, BlockSize: 1 << 20}, rand.New(rand.NewPCG(2, 2)))
	w, err := OpenWriter(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt(make([]byte, 512), 0) // new DataWriteGuid in the parent
	w.Close()
	if _, err := Open(paths[1]); !errors.Is(err, ErrParentMismatch) {
		t.Fatalf("Open: %v, want ErrParentMismatch", err)
	}
}

func TestOpen_chain_loopIsRefused(t *testing.T) {
	dir := t.TempDir()
	paths, _ := buildChain(t, dir, 2, CreateOptions{Size: 8 << 20, BlockSize: 1 << 20}, rand.New(rand.NewPCG(3, 3)))
	// Replace the base with a copy of the child: the child now names itself.
	copyFile(t, paths[1], paths[0])
	_, err := Open(paths[1])
	if !errors.Is(err, ErrChain) && !errors.Is(err, ErrParentMismatch) {
		t.Fatalf("Open: %v, want ErrChain", err)
	}
	t.Log(err)
}

func TestOpen_chain_windowsPathsFallBackToChildDir(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.vhdx")
	w, err := Create(base, CreateOptions{Size: 4 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteAt(pattern(7, 4096), 0)
	w.Close()
	d, _ := Open(base)
	dwg := d.Identity().DataWriteGUID
	d.Close()
	loc := encodeLocator([][2]string{{keyLinkage, braced(dwg)}, {keyAbsolute, `\\?\D:\Hyper-V\Disks\base.vhdx`}})
	child := filepath.Join(dir, "child.avhdx")
	p := params{blockSize: 1 << 20, hasParent: true, size: 4 << 20, logical: 512, physical: 512, locator: loc}
	if err := createFile(child, p, 1<<20); err != nil {
		t.Fatal(err)
	}
	c, err := Open(child)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 4096)
	c.ReadAt(buf, 0)
	if !bytes.Equal(buf, pattern(7, 4096)) {
		t.Fatal("parent data not visible through the child")
	}
}

func TestWriter_identity_guidsChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.vhdx")
	w, err := Create(path, CreateOptions{Size: 4 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	ids := func() vdisk.Identity { d, _ := Open(path); defer d.Close(); return d.Identity() }
	a := ids()
	w, _ = OpenWriter(path)
	w.Close()
	b := ids()
	if a.FileWriteGUID == b.FileWriteGUID || a.DataWriteGUID != b.DataWriteGUID {
		t.Fatalf("open without writes: %v -> %v", a, b)
	}
	w, _ = OpenWriter(path)
	w.WriteAt(make([]byte, 512), 0)
	w.Close()
	if c := ids(); c.DataWriteGUID == b.DataWriteGUID {
		t.Fatal("DataWriteGuid unchanged after a write")
	}
}

func TestOpenWriter_qemuImage_staysValid(t *testing.T) {
	tests := []struct{ name, opts string }{
		{"dynamic_zero_state", "subformat=dynamic,block_size=1M"},
		{"dynamic_not_present", "subformat=dynamic,block_size=1M,block_state_zero=off"},
		{"fixed", "subformat=fixed,block_size=1M,block_state_zero=off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "q.vhdx")
			qemu(t, "qemu-img", "create", "-f", "vhdx", "-o", tt.opts, path, "12M")
			qemu(t, "qemu-io", "-f", "vhdx", "-c", "write -P 0x5a 1M 1M", path)
			o := &oracle{b: qemuRaw(t, path)}
			w, err := OpenWriter(path)
			if err != nil {
				t.Fatal(err)
			}
			randomWrites(t, w, o, rand.New(rand.NewPCG(10, 10)), 10)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			checkImage(t, path, o.b, true)
		})
	}
}

func TestOpen_chain_missingParent(t *testing.T) {
	dir := t.TempDir()
	paths, _ := buildChain(t, dir, 2, CreateOptions{Size: 4 << 20, BlockSize: 1 << 20}, rand.New(rand.NewPCG(11, 11)))
	if err := os.Remove(paths[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(paths[1]); !errors.Is(err, ErrParentNotFound) {
		t.Fatalf("Open: %v, want ErrParentNotFound", err)
	}
}
