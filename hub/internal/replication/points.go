package replication

import (
	"context"
	"fmt"

	"hvmigrate/hub/internal/recovery"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/delta"
)

// pointStore keeps recovery points in the hub's database.
type pointStore struct {
	st *state.Store
}

var _ recovery.Store = pointStore{}

// vmKey is the inventory id of a VM whose delta id is id (a GUID string).
func vmKey(id delta.ID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:16])
}

// Save implements recovery.Store.
func (p pointStore) Save(ctx context.Context, pt recovery.Point) error {
	sp := state.RecoveryPoint{VMID: vmKey(pt.VMID), Cycle: pt.Cycle, TakenAt: pt.Time,
		Consistency: int(pt.Consistency), State: int(pt.State)}
	for _, d := range pt.Disks {
		sp.Disks = append(sp.Disks, state.PointDisk{DiskID: vmKey(d.DiskID), Blob: d.Blob, Snapshot: d.Snapshot})
	}
	return p.st.SavePoint(ctx, sp)
}

// Points implements recovery.Store.
func (p pointStore) Points(ctx context.Context, vm delta.ID) ([]recovery.Point, error) {
	sps, err := p.st.Points(ctx, vmKey(vm))
	if err != nil {
		return nil, err
	}
	out := make([]recovery.Point, 0, len(sps))
	for _, sp := range sps {
		pt := recovery.Point{VMID: vm, Cycle: sp.Cycle, Time: sp.TakenAt,
			Consistency: recovery.Consistency(sp.Consistency), State: recovery.State(sp.State)}
		for _, d := range sp.Disks {
			id, err := ParseID(d.DiskID)
			if err != nil {
				return nil, err
			}
			pt.Disks = append(pt.Disks, recovery.DiskSnapshot{DiskID: id, Blob: d.Blob, Snapshot: d.Snapshot})
		}
		out = append(out, pt)
	}
	return out, nil
}

// Remove implements recovery.Store.
func (p pointStore) Remove(ctx context.Context, vm delta.ID, cycle uint64) error {
	return p.st.RemovePoint(ctx, vmKey(vm), cycle)
}
