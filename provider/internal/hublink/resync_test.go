package hublink

import (
	"context"
	"errors"
	"testing"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication/driver"
)

func TestHub_SendResyncHashes_queuesOneEventPerPiece(t *testing.T) {
	s := &sender{}
	h := NewHub(testConfig(), Deps{Send: s, Log: testLogger(t)})
	piece := driver.ResyncHashes{VMID: testVM, DiskID: testDisk, Cycle: 7, RequestID: "q1", ChunkBytes: 65536, FirstChunk: 8192, SHA256: []string{"ab", ""}}
	if err := h.SendResyncHashes(context.Background(), piece); err != nil {
		t.Fatal(err)
	}
	evs := s.all()
	if len(evs) != 1 || evs[0].ID != "rsh-q1-8192" {
		t.Fatalf("events %+v", evs)
	}
	got := evs[0].ResyncHashes
	if got == nil || got.VMID != testVM || got.DiskID != testDisk || got.Cycle != 7 || got.RequestID != "q1" ||
		got.ChunkBytes != 65536 || got.FirstChunk != 8192 || len(got.SHA256) != 2 {
		t.Fatalf("event %+v", got)
	}
	s.err = errors.New("queue full")
	if err := h.SendResyncHashes(context.Background(), piece); err == nil {
		t.Fatal("a failed queue was not reported")
	}
}

func TestHub_AwaitResync_joinsPartsInOrder(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{}, Log: testLogger(t)})
	hd := NewHandler(h, nil, testLogger(t))
	grant := &hubclient.SASGrant{DiskID: testDisk, Purpose: purposeCycle, URL: grantURL("vm/aa/disk/bb/resync/7.delta"), ExpiresAt: time.Now().Add(time.Hour)}
	req := driver.ResyncRequest{VMID: testVM, DiskID: testDisk, RequestID: "q1"}
	parts := []*hubclient.ResyncRanges{
		{VMID: testVM, DiskID: testDisk, Cycle: 7, RequestID: "q1", Part: 1, Parts: 2, Grant: grant,
			Ranges: []hubclient.ByteRange{{Offset: 1 << 20, Length: 65536, Zero: true}}},
		{VMID: testVM, DiskID: testDisk, Cycle: 7, RequestID: "q1", Part: 0, Parts: 2, Grant: grant,
			Ranges: []hubclient.ByteRange{{Offset: 0, Length: 65536}, {Offset: 196608, Length: 131072}}},
		{VMID: testVM, DiskID: testDisk, Cycle: 7, RequestID: "other", Parts: 1, FullCopy: true},
	}
	done := make(chan struct{})
	var ans driver.ResyncAnswer
	var err error
	go func() {
		defer close(done)
		ans, err = h.AwaitResync(context.Background(), req)
	}()
	for i, p := range parts {
		if err := hd.HandleCommand(context.Background(), hubclient.Command{ID: "c" + string(rune('0'+i)), ResyncRanges: p}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if err != nil {
		t.Fatal(err)
	}
	want := []agentclient.Range{{Offset: 0, Length: 65536}, {Offset: 196608, Length: 131072}, {Offset: 1 << 20, Length: 65536, Zero: true}}
	if len(ans.Ranges) != len(want) || ans.FullCopy || ans.SAS.Blob != "vm/aa/disk/bb/resync/7.delta" || ans.SAS.URL != grant.URL {
		t.Fatalf("answer %+v", ans)
	}
	for i := range want {
		if ans.Ranges[i] != want[i] {
			t.Fatalf("range %d is %+v, want %+v", i, ans.Ranges[i], want[i])
		}
	}
	full, err := h.AwaitResync(context.Background(), driver.ResyncRequest{VMID: testVM, DiskID: testDisk, RequestID: "other"})
	if err != nil || !full.FullCopy {
		t.Fatalf("full copy answer %+v, %v", full, err)
	}
	// An answer is taken once.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.AwaitResync(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second wait: %v, want a timeout", err)
	}
}

func TestHub_AwaitResync_refusesAnAnswerWithoutGrant(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{}, Log: testLogger(t)})
	h.takeResyncRanges(&hubclient.ResyncRanges{VMID: testVM, DiskID: testDisk, RequestID: "q", Parts: 1,
		Ranges: []hubclient.ByteRange{{Length: 512}}})
	if _, err := h.AwaitResync(context.Background(), driver.ResyncRequest{VMID: testVM, DiskID: testDisk, RequestID: "q"}); err == nil {
		t.Fatal("an answer without a grant was accepted")
	}
}
