package recovery

import (
	"context"
	"slices"
	"sort"
	"sync"

	"hvmigrate/shared/delta"
)

var _ Store = (*MemStore)(nil)

// MemStore is an in-memory Store, for tests.
type MemStore struct {
	mu     sync.Mutex
	points map[delta.ID]map[uint64]Point
}

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{points: map[delta.ID]map[uint64]Point{}}
}

// Save implements Store.
func (s *MemStore) Save(_ context.Context, p Point) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.points[p.VMID] == nil {
		s.points[p.VMID] = map[uint64]Point{}
	}
	p.Disks = slices.Clone(p.Disks)
	s.points[p.VMID][p.Cycle] = p
	return nil
}

// Points implements Store; they come oldest first.
func (s *MemStore) Points(_ context.Context, vm delta.ID) ([]Point, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Point
	for _, p := range s.points[vm] {
		p.Disks = slices.Clone(p.Disks)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cycle < out[j].Cycle })
	return out, nil
}

// Remove implements Store.
func (s *MemStore) Remove(_ context.Context, vm delta.ID, cycle uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.points[vm], cycle)
	return nil
}
