package applytest

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
)

// Reader reads blobs and snapshots.
type Reader interface {
	ReadAt(ctx context.Context, name, snapshot string, p []byte, off int64) (int, error)
}

// Compare reads a replica (or one of its snapshots) and returns an error
// naming the first differing byte unless its data part equals want and the
// padding up to the footer reads as zeros.
func Compare(ctx context.Context, s Reader, name, snapshot string, want []byte) error {
	size := ReplicaBlobSize(int64(len(want))) - 512
	got := make([]byte, size)
	if n, err := s.ReadAt(ctx, name, snapshot, got, 0); n != len(got) || (err != nil && err != io.EOF) {
		return fmt.Errorf("read %s@%s: %d of %d bytes: %w", name, snapshot, n, len(got), err)
	}
	if !bytes.Equal(got[:len(want)], want) {
		i := firstDiff(got, want)
		return fmt.Errorf("%s@%s differs from the model at byte %d (4 MiB chunk %d)", name, snapshot, i, i/(4<<20))
	}
	if pad := got[len(want):]; bytes.Count(pad, []byte{0}) != len(pad) {
		return fmt.Errorf("%s@%s padding after byte %d is not all zero", name, snapshot, len(want))
	}
	return nil
}

// SequenceNumber returns a replica's sequence number.
func SequenceNumber(ctx context.Context, s storage.Store, name string) (int64, error) {
	p, err := s.Properties(ctx, name, "")
	return p.SequenceNumber, err
}

// CheckNotAhead checks that a replica whose sequence number is seq holds
// every byte of cycle seq: outside the extents of cycle seq+1 (which a
// crashed apply may have written in part) it must equal the model at seq.
func (vm *VM) CheckNotAhead(ctx context.Context, s Reader, disk int, seq uint64) error {
	model, ok := vm.History[seq]
	if !ok {
		return fmt.Errorf("disk %d: sequence number %d is not a built cycle", disk, seq)
	}
	want := model[disk]
	got := make([]byte, len(want))
	if n, err := s.ReadAt(ctx, vm.ReplicaBlob(disk), "", got, 0); n != len(got) {
		return fmt.Errorf("read replica %d: %d bytes: %w", disk, n, err)
	}
	var next []delta.Extent
	if plans, ok := vm.Plans[seq+1]; ok {
		next = plans[disk]
	}
	pos := int64(0)
	for _, e := range append(next, delta.Extent{Offset: int64(len(want))}) {
		if !bytes.Equal(got[pos:e.Offset], want[pos:e.Offset]) {
			return fmt.Errorf("disk %d at sequence %d lacks bytes of cycle %d in [%d, %d)", disk, seq, seq, pos, e.Offset)
		}
		pos = max(pos, e.End())
	}
	return nil
}

// firstDiff returns the index of the first differing byte, comparing in
// 4 KiB steps first so that the byte loop stays short.
func firstDiff(a, b []byte) int {
	i := 0
	for i+4096 <= len(b) && bytes.Equal(a[i:i+4096], b[i:i+4096]) {
		i += 4096
	}
	for i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}
