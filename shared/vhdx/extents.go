package vhdx

import (
	"errors"

	"hvmigrate/shared/vdisk"
)

// errStop ends an extent walk when the consumer stops iterating.
var errStop = errors.New("stop")

// extSink merges adjacent extents of one kind before yielding them.
type extSink struct {
	cur   vdisk.Extent
	yield func(vdisk.Extent, error) bool
}

// add appends [off, off+n) of kind k.
func (s *extSink) add(off, n int64, k vdisk.Kind) error {
	if n <= 0 {
		return nil
	}
	if s.cur.Length > 0 && s.cur.Kind == k && s.cur.End() == off {
		s.cur.Length += n
		return nil
	}
	if err := s.flush(); err != nil {
		return err
	}
	s.cur = vdisk.Extent{Offset: off, Length: n, Kind: k}
	return nil
}

// flush yields the pending extent.
func (s *extSink) flush() error {
	if s.cur.Length == 0 {
		return nil
	}
	e := s.cur
	s.cur = vdisk.Extent{}
	if !s.yield(e, nil) {
		return errStop
	}
	return nil
}

// extentsOf yields the extents of [from, to) as seen through this layer and
// its parents, streaming the BAT without reading payload data.
func (l *layer) extentsOf(from, to int64, s *extSink) error {
	if from >= to {
		return nil
	}
	bs := l.geo.blockSize
	b0, b1 := from/bs, (to+bs-1)/bs
	pend := [2]int64{-1, -1} // a pending range that reads the parent
	flushParent := func() error {
		if pend[0] < 0 {
			return nil
		}
		r := pend
		pend = [2]int64{-1, -1}
		return l.parent.extentsOf(r[0], r[1], s)
	}
	err := l.walkBAT(l.geo.payloadIndex(b0), l.geo.payloadIndex(b1-1)+1, func(i int64, e uint64) error {
		if l.geo.isSBIndex(i) {
			return nil
		}
		blk := l.geo.blockOf(i)
		lo, hi := max(from, blk*bs), min(to, (blk+1)*bs)
		st := entryState(e)
		if st == stNotPresent && l.parent != nil {
			if pend[0] < 0 {
				pend[0] = lo
			}
			pend[1] = hi
			return nil
		}
		if err := flushParent(); err != nil {
			return err
		}
		return l.blockExtents(i, e, lo, hi, s)
	})
	if err != nil {
		return err
	}
	return flushParent()
}

// blockExtents yields the extents of [lo, hi) inside one block of state e.
func (l *layer) blockExtents(i int64, e uint64, lo, hi int64, s *extSink) error {
	switch st := entryState(e); st {
	case stFull:
		return s.add(lo, hi-lo, vdisk.KindData)
	case stPartial:
		if l.parent == nil {
			return errf(ErrCorrupt, "BAT: entry %d: partially present block in a disk without a parent", i)
		}
		return l.partialExtents(lo, hi, s)
	case stNotPresent, stUndefined, stZero, stUnmapped, stUnmappedOld:
		return s.add(lo, hi-lo, vdisk.KindZero)
	default:
		return errf(ErrCorrupt, "BAT: entry %d: state %d invalid", i, st)
	}
}

// partialExtents resolves a partially present block through its bitmap.
func (l *layer) partialExtents(lo, hi int64, s *extSink) error {
	ss := l.geo.sector
	s0, s1 := lo/ss, hi/ss
	bits, err := l.sectorBits(s0, s1)
	if err != nil {
		return err
	}
	return eachRun(bits, s0, func(r0, r1 int64, set bool) error {
		a, b := max(r0*ss, lo), min(r1*ss, hi)
		if a >= b {
			return nil
		}
		if set {
			return s.add(a, b-a, vdisk.KindData)
		}
		return l.parent.extentsOf(a, b, s)
	})
}
