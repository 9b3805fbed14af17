package applier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/vhd"
)

// Applier applies cycles to replica disks. It is safe for concurrent use
// on different VMs; see the package documentation for what happens when
// two Apply calls (in one hub or two) race on the same VM.
type Applier struct {
	store Store
	cfg   Config
	log   hclog.Logger
}

// New returns an Applier. Zero fields of cfg take their defaults.
func New(store Store, cfg Config) *Applier {
	d := DefaultConfig()
	if cfg.InFlight <= 0 {
		cfg.InFlight = d.InFlight
	}
	if cfg.FetchStreams <= 0 {
		cfg.FetchStreams = d.FetchStreams
	}
	if cfg.FetchChunk <= 0 {
		cfg.FetchChunk = d.FetchChunk
	}
	if cfg.MaxClear <= 0 || cfg.MaxClear%storage.PageSize != 0 {
		cfg.MaxClear = d.MaxClear
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Applier{store: store, cfg: cfg, log: log.Named("applier")}
}

// Apply applies cycle vm.Cycle to every disk of the VM that stands at
// vm.Cycle-1, after checking every such disk's delta object. It returns
// ErrGap, ErrObjectMissing, ErrObjectInvalid or ErrReplica (as *DiskError)
// without writing anything when the cycle cannot be applied whole, and a
// ErrFenced error when another applier moved a replica on mid-way.
func (a *Applier) Apply(ctx context.Context, vm VMCycle) (Result, error) {
	if err := vm.validate(); err != nil {
		return Result{}, err
	}
	log := a.log.With("vm_id", fmt.Sprintf("%x", vm.VMID), "cycle", vm.Cycle)
	res := Result{VMID: vm.VMID, Cycle: vm.Cycle, Disks: make([]DiskResult, len(vm.Disks))}
	pending, err := a.pending(ctx, &vm, &res)
	if err != nil {
		log.Warn("cycle held", "error", err)
		return res, err
	}
	if len(pending) == 0 {
		res.AlreadyApplied = true
		log.Debug("cycle already applied")
		return res, nil
	}
	objs, err := a.fetchAll(ctx, &vm, pending, &res)
	defer objs.close()
	if err != nil {
		log.Warn("cycle held", "error", err)
		return res, err
	}
	wstart := time.Now()
	for i, idx := range pending {
		if err := a.applyDisk(ctx, &vm, idx, objs[i], &res.Disks[idx]); err != nil {
			res.Write = time.Since(wstart)
			log.Warn("apply failed", "disk_id", fmt.Sprintf("%x", vm.Disks[idx].DiskID), "error", err)
			return res, err
		}
	}
	res.Write = time.Since(wstart)
	log.Info("cycle applied", "disks", len(pending), "download", res.Download, "verify", res.Verify, "write", res.Write)
	return res, nil
}

// pending reads every replica's sequence number and returns the indexes of
// the disks at the base (N-1, or vm.Base). A disk below it is a gap and
// holds the VM; one between the base and N was moved by someone else.
func (a *Applier) pending(ctx context.Context, vm *VMCycle, res *Result) ([]int, error) {
	var out []int
	for i, d := range vm.Disks {
		res.Disks[i].DiskID = d.DiskID
		seq, err := a.replicaState(ctx, vm, &d)
		if err != nil {
			return nil, err
		}
		switch base := vm.base(); {
		case uint64(seq) >= vm.Cycle:
			res.Disks[i].Skipped = true
		case uint64(seq) == base:
			out = append(out, i)
		case uint64(seq) > base:
			return nil, &DiskError{VMID: vm.VMID, DiskID: d.DiskID, Cycle: vm.Cycle, Class: ErrReplica,
				Reason: fmt.Sprintf("replica is at cycle %d, past the cycle %d this object was made against", seq, base)}
		default:
			return nil, &DiskError{VMID: vm.VMID, DiskID: d.DiskID, Cycle: vm.Cycle, Class: ErrGap,
				Reason: fmt.Sprintf("replica is at cycle %d, cycle %d needs %d", seq, vm.Cycle, base)}
		}
	}
	return out, nil
}

// replicaState checks a replica's shape and returns its sequence number.
func (a *Applier) replicaState(ctx context.Context, vm *VMCycle, d *DiskCycle) (int64, error) {
	fail := func(reason string, err error) (int64, error) {
		return 0, &DiskError{VMID: vm.VMID, DiskID: d.DiskID, Cycle: vm.Cycle, Class: ErrReplica, Reason: reason, Err: err}
	}
	p, err := a.store.Properties(ctx, d.ReplicaBlob, "")
	switch {
	case errors.Is(err, storeerr.ErrNotFound):
		return fail("replica page blob not found", err)
	case err != nil:
		return 0, fmt.Errorf("replica of disk %x: %w", d.DiskID, err)
	case p.Kind != storage.KindPage:
		return fail(fmt.Sprintf("replica is a %s blob", p.Kind), nil)
	case p.Size != vhd.ReplicaSize(d.VirtualSize)+vhd.FooterSize:
		return fail(fmt.Sprintf("replica is %d bytes, want %d for a virtual size of %d", p.Size,
			vhd.ReplicaSize(d.VirtualSize)+vhd.FooterSize, d.VirtualSize), nil)
	}
	return p.SequenceNumber, nil
}
