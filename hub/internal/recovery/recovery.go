// Package recovery records recovery points: once every disk of a VM has
// reached cycle N, it snapshots every replica disk and records the point
// (cycle, time, snapshot per disk, crash-consistent) in a store the caller
// provides, and it prunes points by a retention policy, deleting their
// snapshots.
//
// Crash safety. Each snapshot carries metadata naming the VM and the cycle,
// so a Record interrupted after some snapshots were taken finds and reuses
// them when called again instead of leaving orphans; Sweep deletes tagged
// snapshots no point refers to (for a Record that is never retried).
// Pruning first records the intent (the point's state becomes Deleting),
// then deletes the snapshots, tolerating NotFound, then forgets the point;
// a point found Deleting is pruned again whatever the policy says.
//
// Ordering. The caller records the point of cycle N after applying N and
// before applying N+1 to the same VM: writes of N+1 start while the
// sequence number is still N, so the number alone cannot tell a clean N
// from a partly applied N+1. Record checks that every disk stands exactly
// at N, before and in the snapshot itself.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"hvmigrate/shared/delta"
)

// Error classes.
var (
	// ErrNotReady: a disk has not reached the cycle yet.
	ErrNotReady = errors.New("vm has not reached the cycle on every disk")
	// ErrMoved: a disk is already past the cycle, so its state at the
	// cycle can no longer be captured.
	ErrMoved = errors.New("disk already past the cycle")
	// ErrDeleting: the point is being pruned.
	ErrDeleting = errors.New("recovery point is being deleted")
)

// Consistency tells what a point guarantees.
type Consistency int

// Consistency levels.
const (
	// CrashConsistent: every disk as of one instant of the source VM, as a
	// power cut would leave it.
	CrashConsistent Consistency = 1
)

// String names the level.
func (c Consistency) String() string {
	if c == CrashConsistent {
		return "crash-consistent"
	}
	return fmt.Sprintf("consistency(%d)", int(c))
}

// State is a point's life-cycle state.
type State int

// States.
const (
	Active   State = 0
	Deleting State = 1 // pruning started; snapshots may be partly deleted
)

// DiskSnapshot is one disk's snapshot in a point.
type DiskSnapshot struct {
	DiskID   delta.ID
	Blob     string // the replica page blob
	Snapshot string // the snapshot id
}

// Point is a recovery point.
type Point struct {
	VMID        delta.ID
	Cycle       uint64
	Time        time.Time
	Consistency Consistency
	State       State
	Disks       []DiskSnapshot
}

// Store keeps the points; the hub's database implements it, MemStore does
// for tests.
type Store interface {
	// Save inserts or replaces the point (VMID, Cycle).
	Save(ctx context.Context, p Point) error
	// Points returns a VM's points in any order.
	Points(ctx context.Context, vm delta.ID) ([]Point, error)
	// Remove forgets a point; an absent point is not an error.
	Remove(ctx context.Context, vm delta.ID, cycle uint64) error
}

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// systemClock is the wall clock.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
