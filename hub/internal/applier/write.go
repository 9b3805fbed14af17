package applier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// diskWriter applies one verified object to one replica with bounded
// parallelism: a free list of InFlight buffers is both the memory bound and
// the concurrency bound.
type diskWriter struct {
	a     *Applier
	vm    *VMCycle
	d     *DiskCycle
	cond  storage.Cond
	bufs  chan []byte
	res   *DiskResult
	wrote atomic.Int64
	clrd  atomic.Int64
}

// applyDisk writes every extent of the object under the fence, then raises
// the replica's sequence number to the cycle.
func (a *Applier) applyDisk(ctx context.Context, vm *VMCycle, idx int, sp *spooled, res *DiskResult) error {
	d := &vm.Disks[idx]
	w := &diskWriter{a: a, vm: vm, d: d, res: res,
		cond: storage.IfSequenceLE(int64(vm.Cycle - 1)),
		bufs: make(chan []byte, a.cfg.InFlight)}
	for range a.cfg.InFlight {
		w.bufs <- nil // allocated on first use
	}
	err := w.run(ctx, sp.r)
	res.BytesWritten, res.BytesCleared = w.wrote.Load(), w.clrd.Load()
	if err != nil {
		return w.classify(err)
	}
	if err := a.store.SetSequenceNumber(ctx, d.ReplicaBlob, int64(vm.Cycle)); err != nil {
		return fmt.Errorf("vm %x disk %x cycle %d: set sequence number: %w", vm.VMID, d.DiskID, vm.Cycle, err)
	}
	return nil
}

// run streams the extents to storage. It returns nil only when every
// extent was written: the caller then raises the sequence number.
func (w *diskWriter) run(ctx context.Context, r *delta.Reader) error {
	g := newGroup(ctx)
	it := r.Extents()
	defer it.Close()
	complete := false
	for g.ctx.Err() == nil {
		e, err := it.Next()
		if err == io.EOF {
			complete = true
			break
		}
		if err != nil {
			g.Go(func(context.Context) error { return fmt.Errorf("read spooled object: %w", err) })
			break
		}
		w.res.Extents++
		if err := w.dispatch(g, it, e); err != nil {
			g.Go(func(context.Context) error { return err })
			break
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if !complete {
		return fmt.Errorf("apply stopped before the last extent: %w", context.Cause(ctx))
	}
	return nil
}

// dispatch takes a buffer (waiting while InFlight requests run) and starts
// the request for one extent.
func (w *diskWriter) dispatch(g *group, it *delta.Iterator, e delta.Extent) error {
	var buf []byte
	select {
	case buf = <-w.bufs:
	case <-g.ctx.Done():
		return nil // the group already holds the error
	}
	if e.Kind == delta.Zero {
		g.Go(func(ctx context.Context) error {
			defer func() { w.bufs <- buf }()
			return w.clear(ctx, e)
		})
		return nil
	}
	data, err := it.Data()
	if err != nil {
		w.bufs <- buf
		return fmt.Errorf("read spooled extent at disk offset %d: %w", e.Offset, err)
	}
	if buf == nil {
		buf = make([]byte, 0, storage.MaxPutPage)
	}
	buf = append(buf[:0], data...)
	g.Go(func(ctx context.Context) error {
		defer func() { w.bufs <- buf }()
		return w.put(ctx, e.Offset, buf)
	})
	return nil
}

// put writes one data extent.
func (w *diskWriter) put(ctx context.Context, off int64, data []byte) error {
	if err := w.a.store.PutPages(ctx, w.d.ReplicaBlob, off, data, storage.CRC64(data), w.cond); err != nil {
		return err
	}
	w.wrote.Add(int64(len(data)))
	w.progress(int64(len(data)))
	return nil
}

// clear zeroes one zero extent, MaxClear bytes per call.
func (w *diskWriter) clear(ctx context.Context, e delta.Extent) error {
	for off := e.Offset; off < e.End(); {
		n := min(w.a.cfg.MaxClear, e.End()-off)
		if err := w.a.store.ClearPages(ctx, w.d.ReplicaBlob, off, n, w.cond); err != nil {
			return err
		}
		w.clrd.Add(n)
		w.progress(n)
		off += n
	}
	return nil
}

// progress reports applied bytes.
func (w *diskWriter) progress(n int64) {
	if p := w.a.cfg.Progress; p != nil {
		p.Applied(w.vm.VMID, w.d.DiskID, w.vm.Cycle, n)
	}
}

// classify turns a fence refusal into ErrFenced and names the disk.
func (w *diskWriter) classify(err error) error {
	if errors.Is(err, storeerr.ErrConditionNotMet) {
		return &DiskError{VMID: w.vm.VMID, DiskID: w.d.DiskID, Cycle: w.vm.Cycle, Class: ErrFenced,
			Reason: fmt.Sprintf("replica's sequence number is past %d", w.vm.Cycle-1), Err: err}
	}
	return fmt.Errorf("vm %x disk %x cycle %d: %w", w.vm.VMID, w.d.DiskID, w.vm.Cycle, err)
}
