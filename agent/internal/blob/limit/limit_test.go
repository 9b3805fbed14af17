package limit_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/agent/internal/blob/limit"
	"hvmigrate/agent/internal/blob/mem"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/shared/storeerr"
)

// countingLimiter records every wait.
type countingLimiter struct {
	mu    sync.Mutex
	waits []int
	err   error
}

func (l *countingLimiter) Wait(_ context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits = append(l.waits, n)
	return l.err
}

func (l *countingLimiter) total() (sum, biggest int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.waits {
		sum += n
		biggest = max(biggest, n)
	}
	return sum, biggest
}

func TestStore_WritePages_pacesEveryChunk(t *testing.T) {
	m := mem.New()
	ctx := context.Background()
	if err := m.CreatePageBlob(ctx, "d", 8<<20); err != nil {
		t.Fatal(err)
	}
	lim := &countingLimiter{}
	s := limit.New(m, lim, limit.Config{Chunk: 64 << 10})
	if err := s.WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, blob.MaxPutPage))); err != nil {
		t.Fatal(err)
	}
	sum, biggest := lim.total()
	if sum != blob.MaxPutPage || biggest > 64<<10 || len(lim.waits) != 64 {
		t.Fatalf("waited for %d bytes in %d waits (largest %d)", sum, len(lim.waits), biggest)
	}
	if err := s.StageBlock(ctx, "o", "b1", blob.NewPayload(make([]byte, 100))); err != nil {
		t.Fatal(err)
	}
	if sum, _ := lim.total(); sum != blob.MaxPutPage+100 {
		t.Fatalf("stage block not charged: %d", sum)
	}
}

func TestStore_limiterError_stopsRequest(t *testing.T) {
	m := mem.New()
	ctx := context.Background()
	_ = m.CreatePageBlob(ctx, "d", 1<<20)
	lim := &countingLimiter{err: context.Canceled}
	err := limit.New(m, lim, limit.Config{}).WritePages(ctx, "d", 0, blob.NewPayload(make([]byte, 512)))
	if !errors.Is(err, context.Canceled) || storeerr.Retryable(err) {
		t.Fatalf("err %v", err)
	}
	if m.Stats().PutPages != 0 {
		t.Fatal("request sent without allowance")
	}
}

// The host throttle's per-VM view is what the agent passes to New.
var _ limit.Limiter = throttle.VM{}
