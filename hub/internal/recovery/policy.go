package recovery

import (
	"sort"
	"time"
)

// Policy says which points to keep.
type Policy struct {
	// KeepLatest is how many of the newest points are always kept; at
	// least 1.
	KeepLatest int
	// Interval and Window: within the last Window, the newest point of
	// each Interval-long slot (aligned to the Unix epoch) is kept too.
	Interval time.Duration
	Window   time.Duration
}

// DefaultPolicy keeps the latest point plus one per hour for the last 24
// hours.
func DefaultPolicy() Policy {
	return Policy{KeepLatest: 1, Interval: time.Hour, Window: 24 * time.Hour}
}

// Retained returns the cycles of the Active points that p keeps at now.
func Retained(points []Point, p Policy, now time.Time) map[uint64]bool {
	active := make([]Point, 0, len(points))
	for _, pt := range points {
		if pt.State == Active {
			active = append(active, pt)
		}
	}
	sort.Slice(active, func(i, j int) bool { return active[i].Cycle > active[j].Cycle })
	keep := map[uint64]bool{}
	for i, pt := range active {
		if i < max(p.KeepLatest, 1) {
			keep[pt.Cycle] = true
		}
	}
	if p.Interval <= 0 || p.Window <= 0 {
		return keep
	}
	slots := map[int64]bool{}
	for _, pt := range active { // newest first: the first of a slot wins
		age := now.Sub(pt.Time)
		if age < 0 || age > p.Window {
			continue
		}
		slot := pt.Time.UnixNano() / int64(p.Interval)
		if !slots[slot] {
			slots[slot], keep[pt.Cycle] = true, true
		}
	}
	return keep
}
