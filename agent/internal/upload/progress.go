package upload

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Progress counts what a transfer has done. Counters are safe for
// concurrent use; Snapshot adds the current rate and an estimate of the
// time left.
type Progress struct {
	Total            atomic.Int64 // bytes to deal with
	Done             atomic.Int64 // bytes dealt with: sent, skipped or already there
	Read             atomic.Int64 // bytes read from the source
	Skipped          atomic.Int64 // bytes not sent because unallocated or zero
	Sent             atomic.Int64 // bytes sent to storage
	SavedCoalescing  atomic.Int64 // logged bytes a later write overwrote
	SavedCompression atomic.Int64 // bytes compression saved
	Retries          atomic.Int64 // storage requests tried again

	mu       sync.Mutex
	lastAt   time.Time
	lastDone int64
	rate     float64 // bytes of Done per second, smoothed
}

// Snapshot is a point-in-time copy of the counters.
type Snapshot struct {
	Total, Done, Read, Skipped, Sent  int64
	SavedCoalescing, SavedCompression int64
	Retries                           int64
	// Rate is bytes dealt with per second, smoothed over recent snapshots.
	Rate float64
	// ETA is the estimated time left; negative when unknown.
	ETA time.Duration
}

// rateHalfLife is how quickly the smoothed rate forgets the past.
const rateHalfLife = 3 * time.Second

// Snapshot reads the counters and updates the smoothed rate.
func (p *Progress) Snapshot(now time.Time) Snapshot {
	s := Snapshot{
		Total: p.Total.Load(), Done: p.Done.Load(), Read: p.Read.Load(), Skipped: p.Skipped.Load(), Sent: p.Sent.Load(),
		SavedCoalescing: p.SavedCoalescing.Load(), SavedCompression: p.SavedCompression.Load(),
		Retries: p.Retries.Load(), ETA: -1,
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.lastAt.IsZero() {
		if dt := now.Sub(p.lastAt); dt > 0 {
			inst := float64(s.Done-p.lastDone) / dt.Seconds()
			w := 1 - halfLifeDecay(dt)
			p.rate += w * (inst - p.rate)
		}
	}
	p.lastAt, p.lastDone = now, s.Done
	s.Rate = p.rate
	if left := s.Total - s.Done; left >= 0 && p.rate > 0 {
		s.ETA = time.Duration(float64(left) / p.rate * float64(time.Second))
	}
	return s
}

// halfLifeDecay is the weight the old rate keeps after dt.
func halfLifeDecay(dt time.Duration) float64 {
	return math.Exp2(-dt.Seconds() / rateHalfLife.Seconds())
}
