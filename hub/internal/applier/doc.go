// Package applier turns a cycle's delta objects into replica disks: it
// applies cycle N of a VM to the VM's replica page blobs only when every
// disk's delta object for N is present and valid and every replica stands at
// N-1, and it never applies a gap.
//
// # The sequence number is the marker and the fence
//
// Each replica page blob's sequence number is the last cycle fully applied
// to it. Every Put Page and Clear Pages for cycle N carries the condition
// "sequence number <= N-1", and once every extent of a disk has been
// written the applier raises the number to N (with the service's "max"
// action, so it never moves back). Hence:
//
//   - The number never runs ahead of the data: it moves only after every
//     write of the cycle was acknowledged.
//   - A crash mid-apply leaves the disk at N-1 with some of cycle N's writes
//     in place. Writes are absolute bytes (data) or clears (zero extents),
//     so applying N again from the start repairs it; extents of one object
//     never overlap, so their order within the cycle does not matter.
//   - Two appliers cannot interleave cycles. The storage service evaluates
//     the condition when it executes each request, so once one applier has
//     raised a disk to N, every write a stale applier still sends for N (or
//     an older cycle) fails with storeerr.ErrConditionNotMet, however long it
//     was paused and whatever it had already checked.
//
// The residual race: two appliers that both find a disk at N-1 and apply
// the same cycle N at the same time both pass the condition. That is
// harmless: both write the same absolute bytes from the same verified
// object to the same offsets, and neither can raise the number past N until
// its own writes are done; a write of one that lands after the other
// finished N is refused. Nothing of cycle N+1 can be written until the
// number is N, which happens only after all of N's writes of that applier
// have landed.
//
// Leases would add exclusivity (one applier per disk at a time), which
// saves a stale applier's wasted reads and writes and keeps out writers
// that do not use the fence, at the price of renewals, expiry handling and
// breaking a dead holder's lease before anyone can write. Correctness does
// not depend on them: a lease alone cannot stop a write a paused holder has
// already sent, and the sequence-number condition does.
//
// # Validation before any write
//
// Each pending disk's delta object is copied to a local spool file with a
// few large ranged reads (cheaper for the service per byte than 4 MiB ones)
// and checked whole with delta.Verify (every
// checksum, the object CRC included), and its header must name the VM, the
// disk, cycle N, previous cycle N-1 and the disk's virtual size. Applying
// then reads the spool file, never the remote object, so what is written is
// exactly what was verified. Only when every pending disk's object passed
// does the first write go out; a missing or invalid object holds the whole
// VM with ErrObjectMissing or ErrObjectInvalid, naming disk, cycle and
// reason, and writes nothing.
//
// # Memory
//
// Memory per Apply is bounded regardless of object size: InFlight buffers
// of at most 4 MiB for the parallel Put Page calls, FetchStreams buffers of
// 1 MiB for the spool copy, plus the delta reader's extent buffer and
// decoder (about 60 MiB of peak RSS with the defaults while applying a
// 1 GiB object). Disk use is the size of the objects of one cycle, removed
// when Apply returns.
//
// # Ordering
//
// The caller drives cycles in order per VM and takes the recovery point of
// cycle N before asking for N+1. Applying N when every disk is already at N
// (or later) is a successful no-op that reads no object, so duplicate
// manifests are harmless; asking for N+2 while a disk is at N is a held gap
// (ErrGap).
package applier
