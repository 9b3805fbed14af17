// Package stream is the hub's end of the provider stream: one long-lived
// bidirectional gRPC stream per host. Commands go down with ids and stay
// queued in the state store until the host acknowledges them; after a
// reconnect every unacknowledged command is sent again. Events come up with
// ids; the hub stores each id once, acknowledges it (again, for a repeat),
// and refuses an event about a VM the host does not own. Both sides send
// heartbeats; a peer silent for the dead-peer timeout is dropped.
package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/proto"

	"hvmigrate/hub/internal/rpcstatus"
	"hvmigrate/hub/internal/state"
)

// Protocol is the provider-stream protocol version this hub speaks.
const Protocol uint32 = 1

// Input bounds.
const (
	maxIDLen = 64
	maxVMs   = 10000
	// Per VM of an inventory: Hyper-V allows 68 network adapters and 260
	// disks, 2048 virtual processors and 240 TB of memory.
	maxNICs        = 128
	maxDisks       = 512
	maxVCPUs       = 4096
	maxMemoryBytes = 1 << 48
	// maxNameLen bounds VM, disk, NIC and switch names (bytes);
	// maxShortLen bounds power states and MAC addresses.
	maxNameLen  = 1024
	maxShortLen = 64
)

var (
	// ErrInvalid means a message from the host is malformed.
	ErrInvalid = rpcstatus.ErrInvalidMessage
	// errReplaced ends a session when the same host connects again.
	errReplaced = errors.New("replaced by a newer connection from the same host")
)

// Config holds the stream's timing.
type Config struct {
	// HeartbeatInterval is how often the hub sends a heartbeat, and tells
	// the host to.
	HeartbeatInterval time.Duration
	// DeadPeerTimeout ends a stream on which nothing arrived for that long.
	DeadPeerTimeout time.Duration
	// HelloTimeout bounds the wait for the host's first message.
	HelloTimeout time.Duration
	Now          func() time.Time
	// OnConnect, when set, runs (in its own goroutine) each time a host's
	// stream is established: a host that restarted has lost what the hub
	// pushed to it only in memory.
	OnConnect func(ctx context.Context, hostID string)
}

// DefaultConfig holds every default in one place.
func DefaultConfig() Config {
	return Config{
		HeartbeatInterval: 15 * time.Second,
		DeadPeerTimeout:   45 * time.Second,
		HelloTimeout:      10 * time.Second,
		Now:               time.Now,
	}
}

// HostFunc returns the authenticated host id of a call (from its client
// certificate).
type HostFunc func(ctx context.Context) (string, error)

// EventHandler receives every new (not repeated) event after the hub has
// authorised it and before it is stored and acknowledged. An error leaves
// the event unacknowledged; the host sends it again after a reconnect, so a
// handler must be idempotent by event id.
type EventHandler interface {
	HandleEvent(ctx context.Context, hostID string, ev Event) error
}

// Server serves Connect and queues commands. It is safe for concurrent use.
type Server struct {
	cfg     Config
	store   *state.Store
	hostOf  HostFunc
	handler EventHandler
	log     hclog.Logger

	mu       sync.Mutex
	sessions map[string]*session
}

// New returns a stream server. handler may be nil.
func New(cfg Config, store *state.Store, hostOf HostFunc, handler EventHandler, log hclog.Logger) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Server{cfg: cfg, store: store, hostOf: hostOf, handler: handler, log: log, sessions: map[string]*session{}}
}

// Enqueue queues c for the host and pushes it at once if the host is
// connected. An empty ID gets a new UUID; enqueueing an existing id again
// is a no-op, so callers may retry.
func (s *Server) Enqueue(ctx context.Context, hostID string, c Command) (Command, error) {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.cfg.Now().UTC()
	}
	if len(c.ID) > maxIDLen {
		return Command{}, fmt.Errorf("%w: command id longer than %d", ErrInvalid, maxIDLen)
	}
	pc, err := commandToProto(c)
	if err != nil {
		return Command{}, err
	}
	payload, err := proto.Marshal(pc)
	if err != nil {
		return Command{}, fmt.Errorf("encode command %s: %w", c.ID, err)
	}
	_, err = s.store.EnqueueCommand(ctx, state.Command{HostID: hostID, ID: c.ID, Kind: commandKind(pc),
		Payload: payload, CreatedAt: c.CreatedAt})
	if err != nil {
		return Command{}, err
	}
	s.wake(hostID)
	return c, nil
}

// Connected reports whether the host has a live stream.
func (s *Server) Connected(hostID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[hostID]
	return ok
}

// Disconnect ends the host's live stream, if any, telling it the host was
// revoked. Registry.OnRevoke calls it.
func (s *Server) Disconnect(hostID string) {
	s.mu.Lock()
	sess := s.sessions[hostID]
	s.mu.Unlock()
	if sess != nil {
		sess.cancel(fmt.Errorf("host %s: %w", hostID, state.ErrHostRevoked))
	}
}

func (s *Server) wake(hostID string) {
	s.mu.Lock()
	sess := s.sessions[hostID]
	s.mu.Unlock()
	if sess != nil {
		sess.poke()
	}
}

// attach makes sess the host's live session, ending an older one.
func (s *Server) attach(sess *session) {
	s.mu.Lock()
	old := s.sessions[sess.hostID]
	s.sessions[sess.hostID] = sess
	s.mu.Unlock()
	if old != nil {
		old.cancel(errReplaced)
	}
}

func (s *Server) detach(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.hostID] == sess {
		delete(s.sessions, sess.hostID)
	}
}

// errShutdown ends every session when the hub stops.
var errShutdown = errors.New("hub shutting down")

// Shutdown ends every live stream; the hosts reconnect to the next hub.
func (s *Server) Shutdown() {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.cancel(errShutdown)
	}
}
