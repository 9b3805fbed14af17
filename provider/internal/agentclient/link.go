package agentclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"hvmigrate/shared/version"
)

// LinkConfig says where the agent is and how patiently to reach it.
type LinkConfig struct {
	Endpoint         string
	MinBackoff       time.Duration
	MaxBackoff       time.Duration
	HandshakeTimeout time.Duration
	// Protocol is the version offered in the handshake; 0 means this
	// build's own.
	Protocol uint32
}

// DefaultLinkConfig holds every default of the link in one place.
func DefaultLinkConfig(endpoint string) LinkConfig {
	return LinkConfig{
		Endpoint:         endpoint,
		MinBackoff:       100 * time.Millisecond,
		MaxBackoff:       10 * time.Second,
		HandshakeTimeout: 5 * time.Second,
		Protocol:         version.AgentProtocol,
	}
}

// Link keeps one session with the agent open: it dials with backoff,
// handshakes, watches the agent's health stream, and starts again when the
// agent goes away. The provider never restarts because the agent did.
type Link struct {
	cfg LinkConfig
	log hclog.Logger

	mu      sync.Mutex
	client  *Client
	session Session
	changed chan struct{} // closed and replaced whenever the session changes
}

// NewLink returns a link that is not yet running.
func NewLink(cfg LinkConfig, log hclog.Logger) *Link {
	if cfg.Protocol == 0 {
		cfg.Protocol = version.AgentProtocol
	}
	return &Link{cfg: cfg, log: log, changed: make(chan struct{})}
}

// Current returns the client and session of the live session, if any.
func (l *Link) Current() (*Client, Session, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client, l.session, l.client != nil
}

// Changed returns a channel that is closed at the next session change.
func (l *Link) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Run keeps the link up until ctx ends, then returns nil. It returns an
// error wrapping ErrProtocolMismatch, naming both versions, when the agent
// refuses this provider's protocol: that needs an operator, not a retry.
func (l *Link) Run(ctx context.Context) error {
	backoff := l.cfg.MinBackoff
	var lastInstance string
	for ctx.Err() == nil {
		c, sess, err := l.connect(ctx)
		if errors.Is(err, ErrProtocolMismatch) {
			l.log.Error("agent refused this provider", "error", err)
			return err
		}
		if err != nil {
			l.log.Debug("agent not reachable yet", "endpoint", l.cfg.Endpoint, "retry_in", backoff, "error", err)
			sleep(ctx, jitter(backoff))
			backoff = min(backoff*2, l.cfg.MaxBackoff)
			continue
		}
		backoff = l.cfg.MinBackoff
		l.logSession(sess, lastInstance)
		lastInstance = sess.InstanceID
		l.set(c, sess)
		err = l.watch(ctx, c)
		l.set(nil, Session{})
		c.Close()
		if ctx.Err() == nil {
			l.log.Warn("lost the agent; reconnecting", "error", err)
		}
	}
	return nil
}

func (l *Link) connect(ctx context.Context) (*Client, Session, error) {
	c, err := Dial(l.cfg.Endpoint)
	if err != nil {
		return nil, Session{}, err
	}
	hctx, cancel := context.WithTimeout(ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	sess, err := c.Handshake(hctx, l.cfg.Protocol)
	if err != nil {
		c.Close()
		return nil, Session{}, err
	}
	return c, sess, nil
}

func (l *Link) logSession(sess Session, lastInstance string) {
	msg := "connected to agent"
	if lastInstance != "" && lastInstance != sess.InstanceID {
		msg = "connected to restarted agent"
	}
	l.log.Info(msg, "endpoint", l.cfg.Endpoint, "agent_version", sess.AgentVersion,
		"protocol", sess.ProtocolVersion, "instance_id", sess.InstanceID)
}

// watch blocks until the agent's health stream ends or reports that the
// agent is no longer serving.
func (l *Link) watch(ctx context.Context, c *Client) error {
	stream, err := healthpb.NewHealthClient(c.conn).Watch(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return fmt.Errorf("watch agent health: %w", err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("agent health stream: %w", err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("agent reports %s", resp.GetStatus())
		}
	}
}

func (l *Link) set(c *Client, sess Session) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.client, l.session = c, sess
	close(l.changed)
	l.changed = make(chan struct{})
}

// jitter spreads retries over [d/2, d) so providers do not retry in step.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
