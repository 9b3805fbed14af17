package applier

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
)

// Store is the storage the applier needs.
type Store interface {
	Properties(ctx context.Context, name, snapshot string) (storage.Properties, error)
	OpenRange(ctx context.Context, name, snapshot string, off, n int64) (io.ReadCloser, error)
	PutPages(ctx context.Context, name string, off int64, data []byte, crc uint64, cond storage.Cond) error
	ClearPages(ctx context.Context, name string, off, n int64, cond storage.Cond) error
	SetSequenceNumber(ctx context.Context, name string, n int64) error
}

// Progress receives applied byte counts as writes complete. Calls come from
// several goroutines at once.
type Progress interface {
	Applied(vm, disk delta.ID, cycle uint64, bytes int64)
}

// VMCycle asks for cycle Cycle of a VM.
type VMCycle struct {
	VMID  delta.ID
	Cycle uint64
	Disks []DiskCycle
	// Base is the cycle the replicas must stand at; 0 means Cycle-1. A
	// resync object compared against a replica held below Cycle-1 (the
	// cycles between could not be applied) applies on top of that cycle.
	Base uint64
}

// base is the cycle the replicas must stand at before vm applies.
func (vm *VMCycle) base() uint64 {
	if vm.Base != 0 {
		return vm.Base
	}
	return vm.Cycle - 1
}

// DiskCycle is one disk of the VM: its replica page blob, the delta object
// for the cycle, and its virtual size.
type DiskCycle struct {
	DiskID      delta.ID
	ReplicaBlob string
	DeltaBlob   string
	VirtualSize int64
}

// Result tells what Apply did.
type Result struct {
	VMID  delta.ID
	Cycle uint64
	// AlreadyApplied is set when every disk was already at the cycle (or
	// later) and nothing was read or written.
	AlreadyApplied bool
	Disks          []DiskResult
	// Download, Verify and Write are the time spent copying the objects
	// to the spool, verifying them, and writing them to the replicas.
	Download, Verify, Write time.Duration
}

// DiskResult is one disk's share of the work.
type DiskResult struct {
	DiskID       delta.ID
	Skipped      bool  // already at the cycle
	Extents      int64 // table entries applied
	BytesWritten int64 // Put Page bytes
	BytesCleared int64 // Clear Pages bytes
}

// Config tunes an Applier.
type Config struct {
	// InFlight bounds concurrent Put Page and Clear Pages requests of one
	// Apply, and so its write buffers: InFlight × 4 MiB.
	InFlight int
	// FetchStreams and FetchChunk shape the copy of a delta object to the
	// spool: FetchStreams ranged reads of FetchChunk bytes at a time, each
	// streamed through a 1 MiB buffer. Large ranges cost the service far
	// less per byte than 4 MiB ones.
	FetchStreams int
	FetchChunk   int64
	// MaxClear is the longest range of one Clear Pages call.
	MaxClear int64
	// SpoolDir holds the verified copies of delta objects during an Apply;
	// empty means the system's temporary directory.
	SpoolDir string
	// Progress, when set, receives applied bytes.
	Progress Progress
	// Logger receives the applier's logs; nil discards them.
	Logger hclog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{InFlight: 8, FetchStreams: 2, FetchChunk: 32 << 20, MaxClear: 256 << 20}
}

// validate checks the request's shape.
func (vm *VMCycle) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: vm %x cycle %d: %s", ErrRequest, vm.VMID, vm.Cycle, fmt.Sprintf(format, args...))
	}
	if vm.Cycle == 0 || vm.Cycle > math.MaxInt64 {
		return bad("cycle out of range 1..2^63-1")
	}
	if len(vm.Disks) == 0 {
		return bad("no disks")
	}
	seen := map[delta.ID]bool{}
	for _, d := range vm.Disks {
		switch {
		case seen[d.DiskID]:
			return bad("disk %x listed twice", d.DiskID)
		case d.ReplicaBlob == "" || d.DeltaBlob == "":
			return bad("disk %x has no replica or delta blob name", d.DiskID)
		case d.VirtualSize <= 0 || d.VirtualSize%delta.SectorSize != 0 || d.VirtualSize > delta.MaxVirtualSize:
			return bad("disk %x virtual size %d", d.DiskID, d.VirtualSize)
		}
		seen[d.DiskID] = true
	}
	return nil
}
