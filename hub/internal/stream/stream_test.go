package stream_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hvmigrate/hub/internal/stream"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

func resync(id, vm string) stream.Command {
	return stream.Command{ID: id, Resync: &stream.VMCommand{VMID: vm}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServer_Connect_commandsAckedNotRedelivered(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	ctx := context.Background()
	p := h.connect(t, "h1")
	if w := p.hello(); w.GetHostId() != "h1" || w.GetHeartbeatIntervalMs() != 50 {
		t.Fatalf("welcome = %v", w)
	}
	if _, err := h.srv.Enqueue(ctx, "h1", resync("c1", "vm1")); err != nil {
		t.Fatal(err)
	}
	if got := p.next(isCommand("c1")).GetCommand().GetResync().GetVmId(); got != "vm1" {
		t.Fatalf("command vm = %q", got)
	}
	p.ack("c1")
	waitFor(t, "ack stored", func() bool {
		c, err := h.store.GetCommand(ctx, "h1", "c1")
		return err == nil && c.State == "acked"
	})
	p.close()

	p2 := h.connect(t, "h1")
	p2.hello()
	if _, err := h.srv.Enqueue(ctx, "h1", resync("c2", "vm1")); err != nil {
		t.Fatal(err)
	}
	p2.next(isCommand("c2"))
	p2.quiet(300*time.Millisecond, isCommand("c1"))
}

func TestServer_Connect_unackedRedeliveredAfterReconnect(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	ctx := context.Background()
	for _, id := range []string{"c1", "c2"} {
		if _, err := h.srv.Enqueue(ctx, "h1", resync(id, "vm1")); err != nil {
			t.Fatal(err)
		}
	}
	p := h.connect(t, "h1")
	p.hello()
	p.next(isCommand("c1"))
	p.next(isCommand("c2"))
	p.ack("c1")
	waitFor(t, "c1 acked", func() bool { c, _ := h.store.GetCommand(ctx, "h1", "c1"); return c.State == "acked" })
	p.close()

	p2 := h.connect(t, "h1")
	p2.hello()
	p2.next(isCommand("c2"))
	p2.quiet(300*time.Millisecond, isCommand("c1"))
}

func TestServer_Enqueue_duplicateIDQueuedOnce(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	ctx := context.Background()
	p := h.connect(t, "h1")
	p.hello()
	for range 3 {
		if _, err := h.srv.Enqueue(ctx, "h1", resync("same", "vm1")); err != nil {
			t.Fatal(err)
		}
	}
	p.next(isCommand("same"))
	p.quiet(300*time.Millisecond, isCommand("same"))
	pending, _ := h.store.PendingCommands(ctx, "h1")
	if len(pending) != 1 {
		t.Fatalf("pending = %d, want 1", len(pending))
	}
	if _, err := h.srv.Enqueue(ctx, "h1", stream.Command{ID: "bad"}); err == nil {
		t.Fatal("a command without a kind was queued")
	}
}

func TestServer_Connect_eventsAckedStoredOnce(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	ctx := context.Background()
	p := h.connect(t, "h1")
	p.hello()
	p.event(inventory("e1", "vm1", "vm2"))
	if ack := p.next(isEventAck("e1")).GetEventAck(); ack.GetErrorReason() != hubv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Fatalf("ack = %v", ack)
	}
	p.event(inventory("e1", "vm9")) // a repeat: acknowledged, not applied
	p.next(isEventAck("e1"))
	vms, err := h.store.VMs(ctx, "h1")
	if err != nil || len(vms) != 2 {
		t.Fatalf("vms = %+v, %v; want vm1 and vm2", vms, err)
	}
	p.event(&hubv1.Event{Id: "e2", Kind: &hubv1.Event_Progress{Progress: &hubv1.Progress{VmId: "vm1", Phase: "initial", DoneBytes: 1}}})
	if ack := p.next(isEventAck("e2")).GetEventAck(); ack.GetErrorReason() != hubv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		t.Fatalf("progress ack = %v", ack)
	}
	p.event(&hubv1.Event{Id: "e3"})
	if ack := p.next(isEventAck("e3")).GetEventAck(); ack.GetErrorReason() != hubv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT {
		t.Fatalf("kindless event ack = %v", ack)
	}
}

func TestServer_Connect_hostCannotReportAnotherHostsVM(t *testing.T) {
	h := newHub(t, fastConfig(), "h1", "h2")
	ctx := context.Background()
	p1 := h.connect(t, "h1")
	p1.hello()
	p1.event(inventory("e1", "vm1"))
	p1.next(isEventAck("e1"))

	p2 := h.connect(t, "h2")
	p2.hello()
	tests := []*hubv1.Event{
		inventory("x1", "vm1"),
		{Id: "x2", Kind: &hubv1.Event_Progress{Progress: &hubv1.Progress{VmId: "vm1"}}},
		{Id: "x3", Kind: &hubv1.Event_CycleManifest{CycleManifest: &hubv1.CycleManifest{VmId: "vm1", Cycle: 1}}},
		{Id: "x4", Kind: &hubv1.Event_ErrorReport{ErrorReport: &hubv1.ErrorReport{VmId: "vm-unknown"}}},
		{Id: "x5", Kind: &hubv1.Event_SourceHashes{SourceHashes: &hubv1.SourceHashes{VmId: "vm1", DiskId: "d1", ChunkBytes: 1 << 20}}},
	}
	for _, e := range tests {
		p2.event(e)
		ack := p2.next(isEventAck(e.GetId())).GetEventAck()
		if ack.GetErrorReason() != hubv1.ErrorReason_ERROR_REASON_PERMISSION_DENIED {
			t.Errorf("event %s: ack = %v, want PERMISSION_DENIED", e.GetId(), ack)
		}
	}
	vms, _ := h.store.VMs(ctx, "")
	if len(vms) != 1 || vms[0].HostID != "h1" {
		t.Fatalf("inventory changed: %+v", vms)
	}
}

func TestServer_Connect_protocolMismatchAndMissingHello(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	p := h.connect(t, "h1")
	p.send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Hello{Hello: &hubv1.Hello{Protocol: 99}}})
	for range p.in {
	}
	if err := <-p.errc; status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("err = %v, want FailedPrecondition", err)
	}
	p2 := h.connect(t, "h1")
	p2.ack("c1")
	for range p2.in {
	}
	if err := <-p2.errc; status.Code(err) != codes.InvalidArgument {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestServer_Connect_deadPeerDropped(t *testing.T) {
	cfg := fastConfig()
	cfg.DeadPeerTimeout = 200 * time.Millisecond
	h := newHub(t, cfg, "h1")
	p := h.connect(t, "h1")
	p.hello()
	start := time.Now()
	for range p.in { // the peer never sends heartbeats
	}
	if err := <-p.errc; status.Code(err) != codes.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("dropped after %s", d)
	}
	waitFor(t, "session gone", func() bool { return !h.srv.Connected("h1") })
}

func TestServer_Connect_heartbeatsKeepAlive(t *testing.T) {
	cfg := fastConfig()
	cfg.DeadPeerTimeout = 200 * time.Millisecond
	h := newHub(t, cfg, "h1")
	p := h.connect(t, "h1")
	p.hello()
	stop := time.Now().Add(600 * time.Millisecond)
	for time.Now().Before(stop) {
		p.send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Heartbeat{Heartbeat: &hubv1.Heartbeat{}}})
		p.next(func(m *hubv1.ConnectResponse) bool { return m.GetHeartbeat() != nil })
	}
	if !h.srv.Connected("h1") {
		t.Fatal("a host that sent heartbeats was dropped")
	}
}

func TestServer_Disconnect_revokedEndsStream(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	p := h.connect(t, "h1")
	p.hello()
	waitFor(t, "session", func() bool { return h.srv.Connected("h1") })
	h.srv.Disconnect("h1")
	for range p.in {
	}
	if err := <-p.errc; status.Code(err) != codes.PermissionDenied {
		t.Fatalf("err = %v, want PermissionDenied", err)
	}
}

func TestServer_Connect_newConnectionReplacesOld(t *testing.T) {
	h := newHub(t, fastConfig(), "h1")
	p1 := h.connect(t, "h1")
	p1.hello()
	p2 := h.connect(t, "h1")
	p2.hello()
	for range p1.in {
	}
	if err := <-p1.errc; status.Code(err) != codes.Aborted {
		t.Fatalf("old stream err = %v, want Aborted", err)
	}
	if !h.srv.Connected("h1") {
		t.Fatal("the new stream is not registered")
	}
}
