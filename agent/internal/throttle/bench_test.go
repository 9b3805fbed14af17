package throttle

import (
	"context"
	"sync"
	"testing"
	"time"

	"hvmigrate/shared/units"
)

// transfer runs uploaders (threads per VM) against l until ctx ends and
// records every grant.
type transfer struct {
	mu     sync.Mutex
	grants []grant
}

type grant struct {
	at time.Time
	n  int
}

func (tr *transfer) run(ctx context.Context, l *Limiter, vms, threads, chunk int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for v := range vms {
		vm := string(rune('a' + v))
		for range threads {
			wg.Go(func() {
				for l.Wait(ctx, vm, chunk) == nil {
					tr.mu.Lock()
					tr.grants = append(tr.grants, grant{time.Now(), chunk})
					tr.mu.Unlock()
				}
			})
		}
	}
	return &wg
}

// bytesBetween sums grants in [from, to).
func (tr *transfer) bytesBetween(from, to time.Time) int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var n int64
	for _, g := range tr.grants {
		if !g.at.Before(from) && g.at.Before(to) {
			n += int64(g.n)
		}
	}
	return n
}

// BenchmarkThrottle_rate reports the achieved rate against the target for
// two VMs with five uploaders each, measured over 2 s after a 0.5 s warm-up
// (so the initial full bucket does not count). Run with -benchtime=1x.
func BenchmarkThrottle_rate(b *testing.B) {
	for _, target := range []units.Bandwidth{512 * units.Kbps, 10 * units.Mbps, 100 * units.Mbps, units.Unlimited} {
		b.Run(target.String(), func(b *testing.B) {
			for range b.N {
				l, err := New(Config{Schedule: flat(target)})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
				tr := &transfer{}
				start := time.Now().Add(500 * time.Millisecond)
				wg := tr.run(ctx, l, 2, 5, 32<<10)
				wg.Wait()
				end := time.Now()
				cancel()
				l.Close()
				got := float64(tr.bytesBetween(start, end)) / end.Sub(start).Seconds()
				b.ReportMetric(got*8/1e6, "Mbps")
				if !target.IsUnlimited() {
					b.ReportMetric(got/target.BytesPerSecond(), "achieved/target")
				}
			}
		})
	}
}

// BenchmarkThrottle_follow reports how long a running transfer takes to
// follow a limit change made with Set: "up" is the delay until the first
// request released under the higher limit, "down" the time after which the
// transfer stays within the lower limit (plus two chunks).
func BenchmarkThrottle_follow(b *testing.B) {
	cases := []struct {
		name     string
		from, to units.Bandwidth
	}{
		{"512Kbps_to_100Mbps", 512 * units.Kbps, 100 * units.Mbps},
		{"512Kbps_to_unlimited", 512 * units.Kbps, units.Unlimited},
		{"100Mbps_to_512Kbps", 100 * units.Mbps, 512 * units.Kbps},
		{"unlimited_to_10Mbps", units.Unlimited, 10 * units.Mbps},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				b.ReportMetric(follow(b, c.from, c.to).Seconds()*1000, "ms-to-follow")
			}
		})
	}
}

func follow(b *testing.B, from, to units.Bandwidth) time.Duration {
	const chunk = 32 << 10
	l, err := New(Config{Schedule: flat(from), MaxChunk: chunk})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	tr := &transfer{}
	wg := tr.run(ctx, l, 2, 4, chunk)
	time.Sleep(time.Second)
	t0 := time.Now()
	if err := l.Set(flat(to)); err != nil {
		b.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if to.IsUnlimited() || to > from {
		for _, g := range tr.grants {
			if g.at.After(t0) {
				return g.at.Sub(t0)
			}
		}
		return time.Hour
	}
	var sum float64
	var last time.Duration
	for _, g := range tr.grants {
		if g.at.After(t0) {
			sum += float64(g.n)
			d := g.at.Sub(t0)
			if sum > to.BytesPerSecond()*d.Seconds()+2*chunk {
				last = d
			}
		}
	}
	return last
}
