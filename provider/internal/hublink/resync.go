package hublink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication/driver"
)

var _ driver.Comparer = (*Hub)(nil)

// answerKeep is how long an answer nobody waits for is kept: one that
// arrives for an attempt the provider gave up (or forgot in a restart).
const answerKeep = time.Hour

// answers collects the hub's ResyncRanges commands per request until the
// resync that asked takes them.
type answers struct {
	mu      sync.Mutex
	byReq   map[driver.ResyncRequest]*answer
	changed chan struct{} // closed and replaced on every change
}

// answer is the parts of one request's answer received so far.
type answer struct {
	parts map[uint32]*hubclient.ResyncRanges
	total uint32
	at    time.Time
}

func newAnswers() *answers {
	return &answers{byReq: map[driver.ResyncRequest]*answer{}, changed: make(chan struct{})}
}

// add records one part and wakes the waiters; old unclaimed answers go.
func (a *answers) add(r *hubclient.ResyncRanges) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	for k, v := range a.byReq {
		if now.Sub(v.at) > answerKeep {
			delete(a.byReq, k)
		}
	}
	k := driver.ResyncRequest{VMID: r.VMID, DiskID: r.DiskID, RequestID: r.RequestID}
	an, ok := a.byReq[k]
	if !ok {
		an = &answer{parts: map[uint32]*hubclient.ResyncRanges{}}
		a.byReq[k] = an
	}
	an.at, an.total = now, max(r.Parts, 1)
	an.parts[r.Part] = r
	close(a.changed)
	a.changed = make(chan struct{})
}

// take returns the whole answer to req and forgets it, or false with a
// channel that closes at the next change.
func (a *answers) take(req driver.ResyncRequest) (driver.ResyncAnswer, bool, <-chan struct{}, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	an, ok := a.byReq[req]
	if !ok || uint32(len(an.parts)) < an.total {
		return driver.ResyncAnswer{}, false, a.changed, nil
	}
	delete(a.byReq, req)
	out, err := assemble(an)
	return out, true, nil, err
}

// assemble joins the parts of an answer in order.
func assemble(an *answer) (driver.ResyncAnswer, error) {
	var out driver.ResyncAnswer
	for i := range an.total {
		p, ok := an.parts[i]
		if !ok {
			return out, fmt.Errorf("resync answer has parts %d of %d, not part %d", len(an.parts), an.total, i)
		}
		if p.FullCopy {
			return driver.ResyncAnswer{FullCopy: true}, nil
		}
		if p.Grant == nil {
			return out, fmt.Errorf("resync answer part %d carries no grant", i)
		}
		blob, err := blobOf(p.Grant.URL)
		if err != nil {
			return out, fmt.Errorf("resync answer part %d: %w", i, err)
		}
		out.SAS = driver.SAS{Blob: blob, URL: p.Grant.URL}
		for _, g := range p.Ranges {
			out.Ranges = append(out.Ranges, agentclient.Range{Offset: int64(min(g.Offset, 1<<62)), Length: int64(min(g.Length, 1<<62)), Zero: g.Zero})
		}
	}
	return out, nil
}

// SendResyncHashes implements driver.Comparer: one event per piece, its
// id derived from the request and the first chunk.
func (h *Hub) SendResyncHashes(_ context.Context, r driver.ResyncHashes) error {
	ev := hubclient.Event{ID: fmt.Sprintf("rsh-%s-%d", r.RequestID, r.FirstChunk), ResyncHashes: &hubclient.ResyncHashes{
		VMID: r.VMID, DiskID: r.DiskID, Cycle: r.Cycle, RequestID: r.RequestID, ChunkBytes: uint64(max(r.ChunkBytes, 0)),
		FirstChunk: uint64(max(r.FirstChunk, 0)), SHA256: r.SHA256}}
	return h.queue(ev)
}

// AwaitResync implements driver.Comparer: it waits until every part of
// the hub's answer to req has arrived.
func (h *Hub) AwaitResync(ctx context.Context, req driver.ResyncRequest) (driver.ResyncAnswer, error) {
	for {
		ans, ok, changed, err := h.resyncs.take(req)
		if ok || err != nil {
			return ans, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return driver.ResyncAnswer{}, fmt.Errorf("wait for the hub's resync comparison of vm %s disk %s: %w", req.VMID, req.DiskID, ctx.Err())
		}
	}
}

// takeResyncRanges stores one part of an answer (from a ResyncRanges
// command).
func (h *Hub) takeResyncRanges(r *hubclient.ResyncRanges) {
	h.log.Debug("resync answer", "vm_id", r.VMID, "disk_id", r.DiskID, "part", r.Part, "parts", r.Parts,
		"ranges", len(r.Ranges), "full_copy", r.FullCopy)
	h.resyncs.add(r)
}
