package simhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// testDaemon opens a daemon on a fresh directory, closed at the end.
func testDaemon(t *testing.T) (*Daemon, Config) {
	t.Helper()
	cfg := DefaultConfig(filepath.Join(t.TempDir(), "vms"))
	cfg.SyncLogs = false
	cfg.BlockSize = 1 << 20
	cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: tWriter{t}, Level: hclog.Debug})
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, cfg
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// mustVM creates and starts a VM with disks of the given specs.
func mustVM(t *testing.T, d *Daemon, disks ...DiskSpec) VM {
	t.Helper()
	vm, err := d.CreateVM(VMSpec{Name: "test-vm", Disks: disks})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartVM(vm.ID); err != nil {
		t.Fatal(err)
	}
	return vm
}

// oracle is a plain sparse file per disk that receives the same writes.
type oracle struct {
	t     *testing.T
	files []*os.File
}

func newOracle(t *testing.T, vm VM) *oracle {
	t.Helper()
	o := &oracle{t: t}
	for _, dk := range vm.Disks {
		f, err := os.Create(filepath.Join(t.TempDir(), "oracle.raw"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(dk.Size); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		o.files = append(o.files, f)
	}
	return o
}

// write performs a guest write on the daemon and on the oracle.
func (o *oracle) write(d *Daemon, vmID string, disk int, p []byte, off int64) {
	o.t.Helper()
	if err := d.WriteDisk(context.Background(), WriteRequest{VMID: vmID, Disk: disk, Offset: off, Data: p}); err != nil {
		o.t.Fatal(err)
	}
	if _, err := o.files[disk].WriteAt(p, off); err != nil {
		o.t.Fatal(err)
	}
}

// randomWrites makes n seeded writes of 1 to 64 sectors (heavy overlap
// inside a small region when hot is set).
func (o *oracle) randomWrites(d *Daemon, vm VM, rng *rand.Rand, n int, hot bool) {
	for range n {
		disk := rng.IntN(len(vm.Disks))
		ss := int64(vm.Disks[disk].LogicalSectorSize)
		span := vm.Disks[disk].Size
		if hot {
			span = min(span, 4<<20)
		}
		length := (1 + rng.Int64N(64)) * ss
		off := rng.Int64N((span-length)/ss+1) * ss
		p := make([]byte, length)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		o.write(d, vm.ID, disk, p, off)
	}
}

// sums hashes every oracle file.
func (o *oracle) sums() []string {
	var out []string
	for _, f := range o.files {
		out = append(out, hashReader(o.t, io.NewSectionReader(f, 0, 1<<62)))
	}
	return out
}

func hashReader(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sumsOf extracts the hashes of checksums in disk order.
func sumsOf(cs []DiskChecksum) []string {
	out := make([]string, len(cs))
	for _, c := range cs {
		out[c.Index] = c.SHA256
	}
	return out
}

func equalSums(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sleepBriefly() { time.Sleep(5 * time.Millisecond) }
