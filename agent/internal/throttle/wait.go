package throttle

import (
	"context"
	"slices"
	"time"
)

// Wait blocks until vm may send n bytes, or ctx ends. With an unlimited
// schedule it returns at once.
func (l *Limiter) Wait(ctx context.Context, vm string, n int) error {
	for n > 0 {
		chunk := min(n, l.cfg.MaxChunk)
		if err := l.waitChunk(ctx, vm, chunk); err != nil {
			return err
		}
		n -= chunk
	}
	return ctx.Err()
}

func (l *Limiter) waitChunk(ctx context.Context, vm string, n int) error {
	r := &request{n: n, granted: make(chan struct{})}
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.limit.IsUnlimited():
		l.mu.Unlock()
		return nil
	}
	if len(l.queues[vm]) == 0 {
		l.ring = append(l.ring, vm)
	}
	l.queues[vm] = append(l.queues[vm], r)
	l.mu.Unlock()
	l.poke()
	select {
	case <-r.granted:
		return nil
	case <-ctx.Done():
		l.cancel(vm, r)
		return ctx.Err()
	case <-l.done:
		return ErrClosed
	}
}

// cancel removes a request that is no longer wanted. A grant that raced
// with the cancellation is lost, which only under-uses the link.
func (l *Limiter) cancel(vm string, r *request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queues[vm]
	if i := slices.Index(q, r); i >= 0 {
		l.queues[vm] = slices.Delete(q, i, i+1)
		if len(l.queues[vm]) == 0 {
			l.dropVMLocked(vm)
		}
	}
}

// dropVMLocked removes vm from the turn order.
func (l *Limiter) dropVMLocked(vm string) {
	delete(l.queues, vm)
	if i := slices.Index(l.ring, vm); i >= 0 {
		l.ring = slices.Delete(l.ring, i, i+1)
		if i < l.turn {
			l.turn--
		}
	}
	if l.turn >= len(l.ring) {
		l.turn = 0
	}
}

// run is the dispatcher: it grants waiting requests round-robin by VM as
// tokens become available and re-reads the schedule every Evaluate.
func (l *Limiter) run() {
	defer l.wg.Done()
	nextEval := l.cfg.Clock.Now().Add(l.cfg.Evaluate)
	for {
		now := l.cfg.Clock.Now()
		l.mu.Lock()
		if !now.Before(nextEval) {
			l.applyLocked(now)
			nextEval = now.Add(l.cfg.Evaluate)
		}
		wait := l.grantLocked(now)
		l.mu.Unlock()
		if until := nextEval.Sub(now); wait <= 0 || wait > until {
			wait = until
		}
		select {
		case <-l.done:
			return
		case <-l.wake:
		case <-l.cfg.Clock.After(wait):
		}
	}
}

// grantLocked grants what the bucket allows and returns how long to wait
// for the next grant, or 0 when nothing is waiting.
func (l *Limiter) grantLocked(now time.Time) time.Duration {
	for len(l.ring) > 0 {
		vm := l.ring[l.turn]
		r := l.queues[vm][0]
		if !l.limit.IsUnlimited() && !l.bucket.AllowN(now, r.n) {
			missing := float64(r.n) - l.bucket.TokensAt(now)
			d := time.Duration(missing / float64(l.bucket.Limit()) * float64(time.Second))
			return max(d, time.Millisecond)
		}
		close(r.granted)
		if l.queues[vm] = l.queues[vm][1:]; len(l.queues[vm]) == 0 {
			l.dropVMLocked(vm)
		} else {
			l.turn = (l.turn + 1) % len(l.ring)
		}
	}
	return 0
}

// VM is the limiter as one VM's uploads see it.
type VM struct {
	l  *Limiter
	vm string
}

// For returns the limiter for vm's uploads.
func (l *Limiter) For(vm string) VM {
	return VM{l: l, vm: vm}
}

// Wait blocks until n bytes may be sent.
func (v VM) Wait(ctx context.Context, n int) error {
	return v.l.Wait(ctx, v.vm, n)
}
