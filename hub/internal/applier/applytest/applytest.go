// Package applytest builds replication cycles for tests and benchmarks of
// the applier: model disks, random extents, delta objects written with the
// delta package's Writer and uploaded to a store, and the requests that
// apply them.
package applytest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/vhd"
)

// Disk is one model disk.
type Disk struct {
	ID    delta.ID
	Size  int64
	Model []byte // the source disk's bytes at the VM's current cycle
}

// VM is a model VM whose disks advance one cycle at a time.
type VM struct {
	ID        delta.ID
	Container string
	Disks     []*Disk
	Cycle     uint64                      // last cycle built
	History   map[uint64][][]byte         // model bytes per disk after each cycle
	Plans     map[uint64][][]delta.Extent // extents per disk of each cycle
}

// NewVM returns a VM at cycle 0 (all disks zero) with disks of the given
// sizes, ids drawn from rng.
func NewVM(container string, sizes []int64, rng *rand.Rand) *VM {
	vm := &VM{Container: container, History: map[uint64][][]byte{}, Plans: map[uint64][][]delta.Extent{}}
	fillID(&vm.ID, rng)
	for _, size := range sizes {
		d := &Disk{Size: size, Model: make([]byte, size)}
		fillID(&d.ID, rng)
		vm.Disks = append(vm.Disks, d)
	}
	vm.record()
	return vm
}

// fillID draws a random id.
func fillID(id *delta.ID, rng *rand.Rand) {
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
}

// record keeps a copy of every model at the current cycle.
func (vm *VM) record() {
	snap := make([][]byte, len(vm.Disks))
	for i, d := range vm.Disks {
		snap[i] = slices.Clone(d.Model)
	}
	vm.History[vm.Cycle] = snap
}

// ReplicaBlob names disk i's replica page blob.
func (vm *VM) ReplicaBlob(i int) string {
	return fmt.Sprintf("%s/replicas/%x/%x.vhd", vm.Container, vm.ID, vm.Disks[i].ID)
}

// DeltaBlob names disk i's delta object for a cycle.
func (vm *VM) DeltaBlob(i int, cycle uint64) string {
	return fmt.Sprintf("%s/deltas/%x/%x/%020d", vm.Container, vm.ID, vm.Disks[i].ID, cycle)
}

// ReplicaBlobSize is the size of a replica page blob for a disk.
func ReplicaBlobSize(virtualSize int64) int64 {
	return vhd.ReplicaSize(virtualSize) + vhd.FooterSize
}

// CreateReplicas creates every disk's zeroed replica page blob (cycle 0).
func (vm *VM) CreateReplicas(ctx context.Context, s storage.Store) error {
	for i, d := range vm.Disks {
		if err := s.CreatePageBlob(ctx, vm.ReplicaBlob(i), ReplicaBlobSize(d.Size)); err != nil {
			return err
		}
	}
	return nil
}

// Request returns the applier's request for a cycle.
func (vm *VM) Request(cycle uint64) applier.VMCycle {
	req := applier.VMCycle{VMID: vm.ID, Cycle: cycle}
	for i, d := range vm.Disks {
		req.Disks = append(req.Disks, applier.DiskCycle{DiskID: d.ID, ReplicaBlob: vm.ReplicaBlob(i),
			DeltaBlob: vm.DeltaBlob(i, cycle), VirtualSize: d.Size})
	}
	return req
}

// NextCycle draws random changes for every disk, applies them to the
// models, and returns the delta object of each disk for the new cycle.
func (vm *VM) NextCycle(rng *rand.Rand, opt PlanOptions) ([][]byte, error) {
	vm.Cycle++
	objs := make([][]byte, len(vm.Disks))
	plans := make([][]delta.Extent, len(vm.Disks))
	for i, d := range vm.Disks {
		plan := RandomPlan(rng, d.Size, opt)
		plans[i] = plan
		hdr := delta.Header{Kind: delta.KindCycle, VMID: vm.ID, DiskID: d.ID, Cycle: vm.Cycle,
			PrevCycle: vm.Cycle - 1, VirtualSize: d.Size, Compression: opt.Compression}
		obj, err := Build(hdr, plan, d.Model, rng)
		if err != nil {
			return nil, err
		}
		objs[i] = obj
	}
	vm.Plans[vm.Cycle] = plans
	vm.record()
	return objs, nil
}

// Upload uploads the objects of a cycle.
func (vm *VM) Upload(ctx context.Context, s storage.Store, cycle uint64, objs [][]byte) error {
	for i, obj := range objs {
		if err := s.Upload(ctx, vm.DeltaBlob(i, cycle), bytes.NewReader(obj)); err != nil {
			return err
		}
	}
	return nil
}

// Build fills the data extents of plan with random bytes, applies plan to
// model, and returns the delta object.
func Build(hdr delta.Header, plan []delta.Extent, model []byte, rng *rand.Rand) ([]byte, error) {
	var buf bytes.Buffer
	w, err := delta.NewWriter(&buf, hdr, plan)
	if err != nil {
		return nil, err
	}
	for _, e := range plan {
		dst := model[e.Offset:e.End()]
		if e.Kind == delta.Zero {
			clear(dst)
			continue
		}
		fillData(dst, rng)
		if _, err := w.Write(dst); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fillData writes random bytes, with runs of a repeated byte now and then
// so that compression has something to do.
func fillData(p []byte, rng *rand.Rand) {
	if rng.IntN(3) == 0 {
		v := byte(rng.Uint32())
		for i := range p {
			p[i] = v ^ byte(i/4096)
		}
		return
	}
	for i := 0; i < len(p); i += 8 {
		x := rng.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(x >> (8 * j))
		}
	}
}
