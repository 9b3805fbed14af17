package vhd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/shared/vhd/vhdtest"
)

const testSize = 1 << 20

// baseImage is a dynamic disk with UniqueId guid(1), TimeStamp 100 and one
// recognisable sector at 0.
func baseImage() *vhdtest.Image {
	im := vhdtest.New(vhdtest.Dynamic, testSize, guid(1))
	im.TimeStamp = 100
	im.Write(0, bytes.Repeat([]byte{0xB1}, 512))
	return im
}

// childImage is a differencing disk over p with one sector at 512.
func childImage(p vhdtest.Parent) *vhdtest.Image {
	im := vhdtest.New(vhdtest.Differencing, testSize, guid(2))
	im.Parent = &p
	im.Write(512, bytes.Repeat([]byte{0xC2}, 512))
	return im
}

func TestOpen_parentLocators(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) vhdtest.Parent // writes parents, returns the child's reference
		wantErr error
	}{
		{name: "relative_W2ru_in_subdirectory", setup: func(t *testing.T, dir string) vhdtest.Parent {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			writeImage(t, dir, "sub/base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `.\sub\base.vhd`}
		}},
		{name: "absolute_W2ku_unix_path", setup: func(t *testing.T, dir string) vhdtest.Parent {
			p := writeImage(t, t.TempDir(), "elsewhere.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Absolute: p}
		}},
		{name: "drive_letter_W2ku_by_base_name", setup: func(t *testing.T, dir string) vhdtest.Parent {
			writeImage(t, dir, "base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Absolute: `C:\VMs\Disks\base.vhd`}
		}},
		{name: "stale_W2ru_then_W2ku_base_name", setup: func(t *testing.T, dir string) vhdtest.Parent {
			writeImage(t, dir, "base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `..\old\gone.vhd`, Absolute: `D:\x\base.vhd`}
		}},
		{name: "parent_unicode_name_only", setup: func(t *testing.T, dir string) vhdtest.Parent {
			writeImage(t, dir, "base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Name: `C:\VMs\base.vhd`}
		}},
		{name: "wrong_disk_first_right_disk_later", setup: func(t *testing.T, dir string) vhdtest.Parent {
			other := baseImage()
			other.UniqueID = guid(9)
			writeImage(t, dir, "other.vhd", other)
			writeImage(t, dir, "base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `other.vhd`, Absolute: `E:\base.vhd`}
		}},
		{name: "only_a_wrong_disk", wantErr: ErrParentMismatch, setup: func(t *testing.T, dir string) vhdtest.Parent {
			other := baseImage()
			other.UniqueID = guid(9)
			writeImage(t, dir, "base.vhd", other)
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `base.vhd`}
		}},
		{name: "timestamp_mismatch", wantErr: ErrParentMismatch, setup: func(t *testing.T, dir string) vhdtest.Parent {
			writeImage(t, dir, "base.vhd", baseImage())
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 101, Relative: `base.vhd`}
		}},
		{name: "size_mismatch", wantErr: ErrParentMismatch, setup: func(t *testing.T, dir string) vhdtest.Parent {
			b := baseImage()
			b.Size = 2 * testSize
			writeImage(t, dir, "base.vhd", b)
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `base.vhd`}
		}},
		{name: "not_found", wantErr: ErrParentNotFound, setup: func(t *testing.T, dir string) vhdtest.Parent {
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `base.vhd`, Absolute: `C:\base.vhd`}
		}},
		{name: "corrupt_parent", wantErr: ErrBadChecksum, setup: func(t *testing.T, dir string) vhdtest.Parent {
			b := baseImage().Bytes()
			b[len(b)-1] ^= 0xFF // tail footer reserved byte
			b[511] ^= 0xFF      // and its copy at 0
			os.WriteFile(filepath.Join(dir, "base.vhd"), b, 0o644)
			return vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `base.vhd`}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			child := writeImage(t, dir, "child.vhd", childImage(tt.setup(t, dir)))
			d, err := Open(child)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer d.Close()
			buf := make([]byte, 1024)
			d.ReadAt(buf, 0)
			want := append(bytes.Repeat([]byte{0xB1}, 512), bytes.Repeat([]byte{0xC2}, 512)...)
			if !bytes.Equal(buf, want) {
				t.Fatal("chain content is wrong")
			}
			if got := d.Describe(); got.Parent == nil || got.Parent.Identity.DiskID != guid(1) || got.Subformat != "differencing" {
				t.Fatalf("Describe = %+v", got)
			}
		})
	}
}

func TestOpen_parentCycle(t *testing.T) {
	dir := t.TempDir()
	// a.vhd's parent is b.vhd and b.vhd's parent is a.vhd.
	a := vhdtest.New(vhdtest.Differencing, testSize, guid(1))
	a.Parent = &vhdtest.Parent{UniqueID: guid(2), TimeStamp: 1000, Relative: "b.vhd"}
	b := vhdtest.New(vhdtest.Differencing, testSize, guid(2))
	b.Parent = &vhdtest.Parent{UniqueID: guid(1), TimeStamp: 1000, Relative: "a.vhd"}
	writeImage(t, dir, "b.vhd", b)
	if _, err := Open(writeImage(t, dir, "a.vhd", a)); !errors.Is(err, ErrChain) {
		t.Fatalf("err = %v, want ErrChain", err)
	}
	self := vhdtest.New(vhdtest.Differencing, testSize, guid(3))
	self.Parent = &vhdtest.Parent{UniqueID: guid(3), TimeStamp: 1000, Relative: "self.vhd"}
	if _, err := Open(writeImage(t, dir, "self.vhd", self)); !errors.Is(err, ErrChain) {
		t.Fatalf("self parent: err = %v, want ErrChain", err)
	}
}

func TestOpen_chainDepth(t *testing.T) {
	for _, tt := range []struct {
		depth int
		ok    bool
	}{{MaxChainDepth, true}, {MaxChainDepth + 1, false}} {
		t.Run(fmt.Sprint(tt.depth), func(t *testing.T) {
			dir := t.TempDir()
			var top string
			for i := range tt.depth {
				typ := uint32(vhdtest.Differencing)
				if i == 0 {
					typ = vhdtest.Dynamic
				}
				im := vhdtest.New(typ, testSize, guid(byte(i+1)))
				if i > 0 {
					im.Parent = &vhdtest.Parent{UniqueID: guid(byte(i)), TimeStamp: 1000, Relative: fmt.Sprintf("l%d.vhd", i-1)}
				}
				top = writeImage(t, dir, fmt.Sprintf("l%d.vhd", i), im)
			}
			d, err := Open(top)
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, ErrChain)) {
				t.Fatalf("Open: %v", err)
			}
			if err == nil {
				if n := len(d.Paths()); n != tt.depth {
					t.Fatalf("chain has %d files", n)
				}
				d.Close()
			}
		})
	}
}

func TestOpen_parentNameOfChildItself(t *testing.T) {
	// The parent has the child's file name in another directory; the
	// base-name rule points at the child itself and must be passed over.
	dir := t.TempDir()
	other := filepath.Join(dir, "base")
	os.Mkdir(other, 0o755)
	base := writeImage(t, other, "disk.vhd", baseImage())
	// The relative locator (tried first) names the child itself; the
	// absolute one is right.
	child := childImage(vhdtest.Parent{UniqueID: guid(1), TimeStamp: 100, Relative: `disk.vhd`, Absolute: base})
	d := mustOpen(t, writeImage(t, dir, "disk.vhd", child))
	if len(d.Paths()) != 2 {
		t.Fatalf("chain %q", d.Paths())
	}
	child.Parent.Absolute = `C:\x\disk.vhd`
	if _, err := Open(writeImage(t, dir, "disk.vhd", child)); !errors.Is(err, ErrChain) {
		t.Fatalf("with only the self-referencing candidate: err = %v, want ErrChain", err)
	}
}
