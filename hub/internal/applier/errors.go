package applier

import (
	"errors"
	"fmt"

	"hvmigrate/shared/delta"
)

// Error classes. Apply's errors match one of them with errors.Is, and a
// *DiskError names the disk, the cycle and the reason, for health reports.
var (
	// ErrGap: a replica is below N-1, so cycle N cannot be applied before
	// the missing cycles; the VM is held.
	ErrGap = errors.New("cycle gap: replica is behind the previous cycle")
	// ErrObjectMissing: a disk's delta object for the cycle does not exist.
	ErrObjectMissing = errors.New("delta object missing")
	// ErrObjectInvalid: a disk's delta object fails verification or names
	// another VM, disk, cycle, previous cycle or size.
	ErrObjectInvalid = errors.New("delta object invalid")
	// ErrReplica: a replica page blob is missing or has the wrong shape.
	ErrReplica = errors.New("replica disk unusable")
	// ErrFenced: another applier moved the replica's sequence number past
	// this one's cycle; the error also matches storeerr.ErrConditionNotMet.
	ErrFenced = errors.New("replica fenced by a newer applier")
	// ErrRequest: the VMCycle itself is malformed.
	ErrRequest = errors.New("invalid apply request")
)

// DiskError is a failure tied to one disk of one cycle.
type DiskError struct {
	VMID   delta.ID
	DiskID delta.ID
	Cycle  uint64
	Reason string // human-readable, no secrets
	Class  error  // one of the ErrX classes
	Err    error  // underlying cause, may be nil
}

// Error formats the disk, cycle, class and reason.
func (e *DiskError) Error() string {
	s := fmt.Sprintf("vm %x disk %x cycle %d: %v: %s", e.VMID, e.DiskID, e.Cycle, e.Class, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the class and the cause.
func (e *DiskError) Unwrap() []error {
	errs := []error{e.Class}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
