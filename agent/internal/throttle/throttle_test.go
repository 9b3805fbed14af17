package throttle

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"hvmigrate/shared/units"
)

func flat(b units.Bandwidth) units.Schedule {
	return units.Schedule{WorkHours: b, OffHours: b}
}

func newTest(t *testing.T, s units.Schedule, clock Clock) *Limiter {
	t.Helper()
	l, err := New(Config{Schedule: s, MaxChunk: 32000, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// eventually polls cond for up to two seconds of real time.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waiting returns how many requests are queued.
func (l *Limiter) waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.queues {
		n += len(q)
	}
	return n
}

func TestLimiter_Wait_unlimitedDoesNotWait(t *testing.T) {
	l := newTest(t, flat(units.Unlimited), nil)
	start := time.Now()
	for range 1000 {
		if err := l.Wait(context.Background(), "vm", 4<<20); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("4 GiB unlimited took %v", d)
	}
}

func TestLimiter_Wait_fairBetweenVMs(t *testing.T) {
	clock := newFakeClock(time.Unix(0, 0))
	l := newTest(t, flat(units.MinBandwidth), clock) // 64000 B/s, 32000 B chunks
	ctx, cancel := context.WithCancel(context.Background())
	var granted [2]atomic.Int64
	var wg sync.WaitGroup
	for vm, threads := range []int{32, 4} {
		for range threads {
			wg.Go(func() {
				for l.Wait(ctx, []string{"big", "small"}[vm], 32000) == nil {
					granted[vm].Add(32000)
				}
			})
		}
	}
	eventually(t, "all threads waiting", func() bool { return l.waiting() == 36 })
	// Advance fake time in small steps (a timer registered just after a
	// step fires on a later one) until 200 chunks were granted.
	var elapsed time.Duration
	for granted[0].Load()+granted[1].Load() < 200*32000 {
		clock.Advance(50 * time.Millisecond)
		elapsed += 50 * time.Millisecond
		time.Sleep(time.Millisecond)
		if elapsed > time.Hour {
			t.Fatal("grants stopped")
		}
	}
	cancel()
	wg.Wait()
	big, small := granted[0].Load(), granted[1].Load()
	t.Logf("32-thread VM: %d B, 4-thread VM: %d B over %v of fake time", big, small, elapsed)
	if ratio := float64(big) / float64(small); ratio < 0.9 || ratio > 1.1 {
		t.Fatalf("unfair split %d/%d", big, small)
	}
	// Rate: at most the initial bucket plus 64000 B/s of fake time.
	if total := big + small; float64(total) > 32000+64000*elapsed.Seconds()+32000 {
		t.Fatalf("granted %d B, more than the limit allows", total)
	}
}

func TestLimiter_Set_reachesWaitingRequests(t *testing.T) {
	clock := newFakeClock(time.Unix(0, 0))
	l := newTest(t, flat(units.MinBandwidth), clock)
	ctx := context.Background()
	if err := l.Wait(ctx, "vm", 32000); err != nil { // empties the bucket
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "vm", 32000) }()
	eventually(t, "request queued", func() bool { return l.waiting() == 1 })
	select {
	case <-done:
		t.Fatal("granted before the bucket refilled")
	case <-time.After(20 * time.Millisecond):
	}
	if err := l.Set(flat(units.Unlimited)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("waiting request not released by Set without any clock advance")
	}
	if err := l.Set(flat(100 * units.Kbps)); err == nil {
		t.Fatal("out-of-range schedule accepted")
	}
}

func TestLimiter_schedule_switchesWithinASecond(t *testing.T) {
	start := time.Date(2026, 11, 23, 17, 59, 59, 500e6, time.UTC) // a Monday
	clock := newFakeClock(start)
	s := units.Schedule{WorkHours: units.MinBandwidth, OffHours: units.Unlimited,
		WorkDays: units.MondayToFriday, Start: 8 * 60, End: 18 * 60}
	l := newTest(t, s, clock)
	ctx := context.Background()
	_ = l.Wait(ctx, "vm", 32000)
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "vm", 32000) }()
	eventually(t, "request queued", func() bool { return l.waiting() == 1 })
	clock.Advance(400 * time.Millisecond) // 17:59:59.9, still work hours
	time.Sleep(20 * time.Millisecond)
	if l.Limit() != units.MinBandwidth || l.waiting() != 1 {
		t.Fatalf("limit %v, waiting %d before 18:00", l.Limit(), l.waiting())
	}
	clock.Advance(600 * time.Millisecond) // 18:00:00.5
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("request not released when work hours ended")
	}
	if l.Limit() != units.Unlimited {
		t.Fatalf("limit %v after work hours", l.Limit())
	}
}

func TestLimiter_Wait_contextCancel(t *testing.T) {
	l := newTest(t, flat(units.MinBandwidth), newFakeClock(time.Unix(0, 0)))
	_ = l.Wait(context.Background(), "vm", 32000)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx, "vm", 32000) }()
	eventually(t, "request queued", func() bool { return l.waiting() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if l.waiting() != 0 {
		t.Fatal("cancelled request left in the queue")
	}
}

func TestLimiter_Close_releasesWaiters(t *testing.T) {
	l, err := New(Config{Schedule: flat(units.MinBandwidth), Clock: newFakeClock(time.Unix(0, 0))})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Wait(context.Background(), "vm", 64<<10)
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background(), "vm", 64<<10) }()
	eventually(t, "request queued", func() bool { return l.waiting() == 1 })
	l.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v", err)
	}
	if err := l.Wait(context.Background(), "vm", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestLimiter_realRate(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time rate test")
	}
	const target = 10 * units.Mbps
	l := newTest(t, flat(target), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range 8 {
		wg.Go(func() {
			for l.For([]string{"a", "b"}[i%2]).Wait(ctx, 32000) == nil {
				sent.Add(32000)
			}
		})
	}
	wg.Wait()
	got := float64(sent.Load()) / time.Since(start).Seconds()
	t.Logf("achieved %.0f B/s, target %.0f B/s", got, target.BytesPerSecond())
	if r := got / target.BytesPerSecond(); r < 0.75 || r > 1.25 {
		t.Fatalf("achieved/target = %.2f", r)
	}
}
