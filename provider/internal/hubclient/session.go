package hubclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/version"
)

// errDeadPeer means the hub stopped talking.
var errDeadPeer = errors.New("no message from the hub within the dead-peer timeout")

type received struct {
	msg *hubv1.ConnectResponse
	err error
}

// session dials, renews if due, opens the stream and serves it until it
// ends. established reports whether the hub welcomed this host.
func (l *Link) session(ctx context.Context) (established bool, err error) {
	conn, err := l.dial()
	if err != nil {
		return false, err
	}
	defer conn.Close()
	client := hubv1.NewProviderServiceClient(conn)
	if l.renewalDue() {
		if err := l.renew(ctx, client); err != nil {
			l.log.Warn("certificate renewal failed", "error", err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := client.Connect(sctx)
	if err != nil {
		return false, fromStatus(err)
	}
	in := make(chan received)
	go receive(sctx, st, in)
	interval, err := l.greet(sctx, st, in)
	if err != nil {
		return false, err
	}
	l.setConnected(true)
	defer l.setConnected(false)
	l.log.Info("connected to hub", "hub", l.Identity().Hub, "host_id", l.Identity().HostID)
	return true, l.serve(sctx, client, st, in, interval)
}

func (l *Link) dial() (*grpc.ClientConn, error) {
	l.mu.Lock()
	c := l.creds
	l.mu.Unlock()
	cert := c.tlsCert()
	cfg, err := identity.PinnedClientConfig(c.pin(), c.id.Hub, &cert)
	if err != nil {
		return nil, err
	}
	return grpc.NewClient(c.id.Hub,
		grpc.WithTransportCredentials(grpccreds.NewTLS(cfg)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}))
}

func receive(ctx context.Context, st hubv1.ProviderService_ConnectClient, in chan<- received) {
	for {
		m, err := st.Recv()
		select {
		case in <- received{m, err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// greet sends hello and waits for the welcome; it returns the heartbeat
// interval the hub asks for. In TLS 1.3 a refused certificate shows here,
// on the first read.
func (l *Link) greet(ctx context.Context, st hubv1.ProviderService_ConnectClient, in <-chan received) (time.Duration, error) {
	hostname, _ := os.Hostname()
	err := st.Send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Hello{Hello: &hubv1.Hello{
		Protocol: Protocol, ProviderVersion: version.Release(), Hostname: hostname}}})
	if err != nil {
		return 0, fromStatus(err)
	}
	t := time.NewTimer(l.cfg.ConnectTimeout)
	defer t.Stop()
	select {
	case r := <-in:
		if r.err != nil {
			return 0, fromStatus(r.err)
		}
		w := r.msg.GetWelcome()
		if w == nil {
			return 0, fmt.Errorf("hub sent %T before its welcome", r.msg.GetMsg())
		}
		if ms := w.GetHeartbeatIntervalMs(); ms > 0 {
			return time.Duration(ms) * time.Millisecond, nil
		}
		return l.cfg.HeartbeatInterval, nil
	case <-t.C:
		return 0, fmt.Errorf("no welcome from the hub within %s", l.cfg.ConnectTimeout)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (l *Link) setConnected(v bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.connected = v
}

// serve runs the stream: commands in, events out, heartbeats both ways.
func (l *Link) serve(ctx context.Context, client hubv1.ProviderServiceClient, st hubv1.ProviderService_ConnectClient, in <-chan received, interval time.Duration) error {
	sent := map[string]bool{}
	if err := l.flush(st, sent); err != nil {
		return err
	}
	hb := time.NewTicker(interval)
	defer hb.Stop()
	deadAfter := time.Duration(l.cfg.DeadPeerMultiple) * interval
	dead := time.NewTimer(deadAfter)
	defer dead.Stop()
	renew := time.NewTimer(l.untilRenewal())
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			st.CloseSend()
			return nil
		case r := <-in:
			if r.err != nil {
				return fromStatus(r.err)
			}
			dead.Reset(deadAfter)
			if err := l.handle(ctx, st, r.msg); err != nil {
				return err
			}
		case <-l.notify:
			if err := l.flush(st, sent); err != nil {
				return err
			}
		case <-hb.C:
			if err := st.Send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Heartbeat{Heartbeat: &hubv1.Heartbeat{SentUnixMs: time.Now().UnixMilli()}}}); err != nil {
				return fromStatus(err)
			}
		case <-dead.C:
			return errDeadPeer
		case <-renew.C:
			if err := l.renew(ctx, client); err != nil {
				l.log.Warn("certificate renewal failed", "error", err)
			}
			renew.Reset(l.untilRenewal())
		}
	}
}

// flush sends every unacknowledged event this stream has not carried.
func (l *Link) flush(st hubv1.ProviderService_ConnectClient, sent map[string]bool) error {
	l.mu.Lock()
	var batch []*hubv1.Event
	for _, id := range l.outbox {
		if !sent[id] {
			batch = append(batch, l.events[id])
		}
	}
	l.mu.Unlock()
	for _, pe := range batch {
		if err := st.Send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Event{Event: pe}}); err != nil {
			return fromStatus(err)
		}
		sent[pe.GetId()] = true
	}
	return nil
}

// handle acts on one message from the hub.
func (l *Link) handle(ctx context.Context, st hubv1.ProviderService_ConnectClient, m *hubv1.ConnectResponse) error {
	switch msg := m.GetMsg().(type) {
	case *hubv1.ConnectResponse_Command:
		return l.command(ctx, st, msg.Command)
	case *hubv1.ConnectResponse_EventAck:
		l.acked(msg.EventAck)
	}
	return nil
}

// command hands a command to the handler once and acknowledges it after
// the handler made it durable; a repeat is acknowledged without the handler.
func (l *Link) command(ctx context.Context, st hubv1.ProviderService_ConnectClient, pc *hubv1.Command) error {
	c, err := commandFromProto(pc)
	if err != nil {
		l.log.Error("ignoring a command this provider cannot read", "command_id", pc.GetId(), "error", err)
		return nil
	}
	if !l.handled.has(c.ID) {
		if err := l.handler.HandleCommand(ctx, c); err != nil {
			l.log.Error("command handler failed; the hub will send it again", "command_id", c.ID, "error", err)
			return nil
		}
		l.handled.add(c.ID)
	} else {
		l.log.Debug("repeated command acknowledged again", "command_id", c.ID)
	}
	ack := &hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_CommandAck{CommandAck: &hubv1.CommandAck{CommandId: c.ID}}}
	return fromStatus(st.Send(ack))
}

// acked drops an acknowledged (or refused) event from the outbox.
func (l *Link) acked(a *hubv1.EventAck) {
	l.mu.Lock()
	_, ok := l.events[a.GetEventId()]
	delete(l.events, a.GetEventId())
	for i, id := range l.outbox {
		if id == a.GetEventId() {
			l.outbox = append(l.outbox[:i], l.outbox[i+1:]...)
			break
		}
	}
	waiters := l.waiters[a.GetEventId()]
	delete(l.waiters, a.GetEventId())
	l.mu.Unlock()
	var err *HubError
	if ok && a.GetErrorReason() != hubv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		err = &HubError{Class: reasonError(a.GetErrorReason().String()), Message: a.GetErrorMessage()}
		if err.Class == nil {
			err.Class = ErrInvalid
		}
	}
	for _, w := range waiters {
		if err != nil {
			w <- err
		} else {
			w <- nil
		}
	}
	if err == nil {
		return
	}
	l.log.Warn("hub refused an event", "event_id", a.GetEventId(), "error", err)
	if l.cfg.OnEventRefused != nil {
		l.cfg.OnEventRefused(a.GetEventId(), err)
	}
}
