package stream_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
)

// hostHeader carries the test's host id in place of a client certificate.
const hostHeader = "x-test-host"

func hostFromMetadata(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(hostHeader); len(v) == 1 {
		return v[0], nil
	}
	return "", errors.New("no host")
}

type api struct {
	hubv1.UnimplementedProviderServiceServer
	srv *stream.Server
}

func (a api) Connect(gs hubv1.ProviderService_ConnectServer) error { return a.srv.Connect(gs) }

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type hub struct {
	store *state.Store
	srv   *stream.Server
	lis   *bufconn.Listener
	log   *syncBuf
}

func newHub(t *testing.T, cfg stream.Config, hosts ...string) *hub {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, state.DefaultConfig(filepath.Join(t.TempDir(), "hub.db")))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateProject(ctx, state.Project{ID: "p", Name: "p", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		k := state.Key{ID: "k" + h, ProjectID: "p", SecretHash: "s" + h, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.Redeem(ctx, state.Redemption{KeyID: k.ID, SecretHash: k.SecretHash, PublicKeyHash: "pk" + h, NewHostID: h, Now: now}); err != nil {
			t.Fatal(err)
		}
	}
	h := &hub{store: st, lis: bufconn.Listen(1 << 20), log: &syncBuf{}}
	log := hclog.New(&hclog.LoggerOptions{Output: h.log, Level: hclog.Debug})
	h.srv = stream.New(cfg, st, hostFromMetadata, nil, log)
	gs := grpc.NewServer()
	hubv1.RegisterProviderServiceServer(gs, api{srv: h.srv})
	go gs.Serve(h.lis)
	t.Cleanup(func() {
		gs.Stop()
		st.Close()
		if t.Failed() {
			t.Logf("hub log:\n%s", h.log.String())
		}
	})
	return h
}

func fastConfig() stream.Config {
	cfg := stream.DefaultConfig()
	cfg.HeartbeatInterval, cfg.DeadPeerTimeout, cfg.HelloTimeout = 50*time.Millisecond, 2*time.Second, 2*time.Second
	return cfg
}

// peer is a test client that plays a provider on the raw wire.
type peer struct {
	t      *testing.T
	conn   *grpc.ClientConn
	st     hubv1.ProviderService_ConnectClient
	cancel context.CancelFunc
	in     chan *hubv1.ConnectResponse
	errc   chan error
}

func (h *hub) connect(t *testing.T, host string) *peer {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return h.lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(metadata.AppendToOutgoingContext(context.Background(), hostHeader, host))
	st, err := hubv1.NewProviderServiceClient(conn).Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, conn: conn, st: st, cancel: cancel, in: make(chan *hubv1.ConnectResponse, 100), errc: make(chan error, 1)}
	go func() {
		for {
			m, err := st.Recv()
			if err != nil {
				p.errc <- err
				close(p.in)
				return
			}
			p.in <- m
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *peer) close() {
	p.cancel()
	for range p.in {
	}
	p.conn.Close()
}

func (p *peer) send(m *hubv1.ConnectRequest) {
	p.t.Helper()
	if err := p.st.Send(m); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

func (p *peer) hello() *hubv1.Welcome {
	p.t.Helper()
	p.send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Hello{Hello: &hubv1.Hello{Protocol: stream.Protocol}}})
	return p.next(func(m *hubv1.ConnectResponse) bool { return m.GetWelcome() != nil }).GetWelcome()
}

// next returns the next message match accepts, skipping heartbeats and
// other messages; it fails the test after a few seconds.
func (p *peer) next(match func(*hubv1.ConnectResponse) bool) *hubv1.ConnectResponse {
	p.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-p.in:
			if !ok {
				p.t.Fatalf("stream ended: %v", <-p.errc)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			p.t.Fatal("timed out waiting for a message")
		}
	}
}

// quiet fails if a message match accepts arrives within d.
func (p *peer) quiet(d time.Duration, match func(*hubv1.ConnectResponse) bool) {
	p.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-p.in:
			if !ok {
				return
			}
			if match(m) {
				p.t.Fatalf("unexpected message %v", m)
			}
		case <-timeout:
			return
		}
	}
}

func isCommand(id string) func(*hubv1.ConnectResponse) bool {
	return func(m *hubv1.ConnectResponse) bool { return m.GetCommand().GetId() == id }
}

func isEventAck(id string) func(*hubv1.ConnectResponse) bool {
	return func(m *hubv1.ConnectResponse) bool {
		return m.GetEventAck() != nil && m.GetEventAck().GetEventId() == id
	}
}

func (p *peer) ack(id string) {
	p.send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_CommandAck{CommandAck: &hubv1.CommandAck{CommandId: id}}})
}

func (p *peer) event(e *hubv1.Event) {
	p.send(&hubv1.ConnectRequest{Msg: &hubv1.ConnectRequest_Event{Event: e}})
}

func inventory(id string, vms ...string) *hubv1.Event {
	inv := &hubv1.Inventory{}
	for _, vm := range vms {
		inv.Vms = append(inv.Vms, &hubv1.Vm{Id: vm, Name: "vm-" + vm, PowerState: "running",
			Disks: []*hubv1.Disk{{Id: "d0", Name: "os", SizeBytes: 1 << 30}}})
	}
	return &hubv1.Event{Id: id, Kind: &hubv1.Event_Inventory{Inventory: inv}}
}
