package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"hvmigrate/hub/internal/rpcstatus"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// session is one live stream of one host.
type session struct {
	hostID string
	gs     hubv1.ProviderService_ConnectServer
	wakeC  chan struct{}
	cancel context.CancelCauseFunc
	sent   map[string]bool // command ids sent on this stream; main loop only
	log    hclog.Logger
}

func (s *session) poke() {
	select {
	case s.wakeC <- struct{}{}:
	default:
	}
}

type received struct {
	msg *hubv1.ConnectRequest
	err error
}

// Connect serves one host's stream until it ends, the host goes silent,
// reconnects elsewhere, or is revoked.
func (s *Server) Connect(gs hubv1.ProviderService_ConnectServer) error {
	hostID, err := s.hostOf(gs.Context())
	if err != nil {
		return rpcstatus.ToStatus(err)
	}
	ctx, cancel := context.WithCancelCause(gs.Context())
	defer cancel(nil)
	in := make(chan received)
	go receive(ctx, gs, in)
	if err := s.hello(ctx, hostID, in); err != nil {
		return rpcstatus.ToStatus(err)
	}
	sess := &session{hostID: hostID, gs: gs, wakeC: make(chan struct{}, 1), cancel: cancel,
		sent: map[string]bool{}, log: s.log.With("host_id", hostID)}
	s.attach(sess)
	defer s.detach(sess)
	if err := gs.Send(&hubv1.ConnectResponse{Msg: &hubv1.ConnectResponse_Welcome{Welcome: &hubv1.Welcome{
		HostId: hostID, Protocol: Protocol, HeartbeatIntervalMs: s.cfg.HeartbeatInterval.Milliseconds()}}}); err != nil {
		return err
	}
	sess.log.Info("host connected")
	if s.cfg.OnConnect != nil {
		go s.cfg.OnConnect(ctx, hostID)
	}
	sess.poke()
	err = s.loop(ctx, sess, in)
	if ctx.Err() != nil {
		// Ended from outside (revoked, replaced, shutdown, host gone):
		// report why, not the store call the cancellation interrupted.
		err = endStatus(context.Cause(ctx))
	}
	sess.log.Info("host disconnected", "error", err)
	return err
}

// receive forwards the host's messages until the stream or ctx ends.
func receive(ctx context.Context, gs hubv1.ProviderService_ConnectServer, in chan<- received) {
	for {
		m, err := gs.Recv()
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

// hello waits for the host's Hello and checks its protocol.
func (s *Server) hello(ctx context.Context, hostID string, in <-chan received) error {
	timer := time.NewTimer(s.cfg.HelloTimeout)
	defer timer.Stop()
	select {
	case r := <-in:
		if r.err != nil {
			return r.err
		}
		h := r.msg.GetHello()
		if h == nil {
			return fmt.Errorf("%w: the first message must be hello", ErrInvalid)
		}
		if h.GetProtocol() != Protocol {
			return fmt.Errorf("%w: provider speaks %d, hub speaks %d", rpcstatus.ErrProtocolMismatch, h.GetProtocol(), Protocol)
		}
		return s.store.TouchHost(ctx, hostID, s.cfg.Now())
	case <-timer.C:
		return status.Error(codes.DeadlineExceeded, "no hello from the host")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loop multiplexes the host's messages, command pushes and heartbeats.
func (s *Server) loop(ctx context.Context, sess *session, in <-chan received) error {
	hb := time.NewTicker(s.cfg.HeartbeatInterval)
	defer hb.Stop()
	dead := time.NewTimer(s.cfg.DeadPeerTimeout)
	defer dead.Stop()
	for {
		select {
		case <-ctx.Done():
			return endStatus(context.Cause(ctx))
		case r := <-in:
			if errors.Is(r.err, io.EOF) {
				return nil
			}
			if r.err != nil {
				return r.err
			}
			dead.Reset(s.cfg.DeadPeerTimeout)
			if err := s.handle(ctx, sess, r.msg); err != nil {
				return err
			}
		case <-sess.wakeC:
			if err := s.push(ctx, sess); err != nil {
				return err
			}
		case <-hb.C:
			if err := sess.gs.Send(heartbeat(s.cfg.Now())); err != nil {
				return err
			}
		case <-dead.C:
			sess.log.Warn("host went silent; dropping its stream", "timeout", s.cfg.DeadPeerTimeout)
			return status.Errorf(codes.Unavailable, "nothing from the host for %s", s.cfg.DeadPeerTimeout)
		}
	}
}

func endStatus(cause error) error {
	switch {
	case errors.Is(cause, errReplaced):
		return status.Error(codes.Aborted, cause.Error())
	case errors.Is(cause, errShutdown):
		return status.Error(codes.Unavailable, cause.Error())
	}
	return rpcstatus.ToStatus(cause)
}

func heartbeat(now time.Time) *hubv1.ConnectResponse {
	return &hubv1.ConnectResponse{Msg: &hubv1.ConnectResponse_Heartbeat{Heartbeat: &hubv1.Heartbeat{SentUnixMs: now.UnixMilli()}}}
}

// handle acts on one message from the host.
func (s *Server) handle(ctx context.Context, sess *session, m *hubv1.ConnectRequest) error {
	switch msg := m.GetMsg().(type) {
	case *hubv1.ConnectRequest_CommandAck:
		id := msg.CommandAck.GetCommandId()
		changed, err := s.store.AckCommand(ctx, sess.hostID, id, s.cfg.Now())
		sess.log.Debug("command acknowledged", "command_id", id, "first_ack", changed)
		return err
	case *hubv1.ConnectRequest_Event:
		ack, err := s.event(ctx, sess, msg.Event)
		if err != nil || ack == nil {
			return err
		}
		return sess.gs.Send(&hubv1.ConnectResponse{Msg: &hubv1.ConnectResponse_EventAck{EventAck: ack}})
	case *hubv1.ConnectRequest_Heartbeat:
		return s.store.TouchHost(ctx, sess.hostID, s.cfg.Now())
	default:
		sess.log.Debug("ignoring unexpected message", "type", fmt.Sprintf("%T", msg))
		return nil
	}
}

// push sends every pending command this stream has not carried yet.
func (s *Server) push(ctx context.Context, sess *session) error {
	cmds, err := s.store.PendingCommands(ctx, sess.hostID)
	if err != nil {
		return err
	}
	for _, c := range cmds {
		if sess.sent[c.ID] {
			continue
		}
		pc := &hubv1.Command{}
		if err := proto.Unmarshal(c.Payload, pc); err != nil {
			return fmt.Errorf("decode stored command %s: %w", c.ID, err)
		}
		if err := sess.gs.Send(&hubv1.ConnectResponse{Msg: &hubv1.ConnectResponse_Command{Command: pc}}); err != nil {
			return err
		}
		sess.sent[c.ID] = true
		sess.log.Debug("command sent", "command_id", c.ID, "kind", c.Kind)
	}
	return nil
}
