// Package agentclient is the provider's typed client for the local agent:
// it dials the agent's socket or pipe, handshakes, and keeps the link up
// across agent restarts. Callers see plain Go types and error classes, never
// generated protobuf messages.
package agentclient

import (
	"context"
	"errors"
	"fmt"
	"net"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/version"
)

var (
	// ErrProtocolMismatch means the agent and the provider speak protocol
	// versions that do not overlap.
	ErrProtocolMismatch = errors.New("agent protocol mismatch")
	// ErrUnavailable means the agent could not be reached.
	ErrUnavailable = errors.New("agent unavailable")
)

// Session is what the agent said in the handshake.
type Session struct {
	ProtocolVersion uint32
	AgentVersion    string
	Capabilities    []string
	InstanceID      string
}

// Status is the agent's report of itself.
type Status struct {
	AgentVersion string
	InstanceID   string
	PID          int64
	ActiveJobs   uint32
	ShuttingDown bool
}

// Client is one gRPC connection to the agent.
type Client struct {
	conn *grpc.ClientConn
	api  agentv1.AgentServiceClient
}

// Dial prepares a connection to the agent at endpoint. It does not connect
// until the first call. The local wire carries no TLS: the socket's
// directory and mode (or the pipe's ACL) are its protection.
func Dial(endpoint string) (*Client, error) {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) { return ipc.Dial(ctx, endpoint) }
	conn, err := grpc.NewClient("passthrough:///hvm-agent",
		grpc.WithContextDialer(dialer),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4<<20)),
	)
	if err != nil {
		return nil, fmt.Errorf("agent client for %s: %w", endpoint, err)
	}
	return &Client{conn: conn, api: agentv1.NewAgentServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Handshake opens a session speaking protocol, the provider's own protocol
// version unless a test asks for another.
func (c *Client) Handshake(ctx context.Context, protocol uint32) (Session, error) {
	resp, err := c.api.Handshake(ctx, &agentv1.HandshakeRequest{
		ProtocolVersion: protocol,
		ProviderVersion: version.Release(),
	})
	if err != nil {
		return Session{}, fromStatus(err, protocol)
	}
	if p := resp.GetProtocolVersion(); p < version.MinAgentProtocol || p > version.AgentProtocol {
		return Session{}, fmt.Errorf("%w: agent %s answered with protocol %d, provider %s speaks %d..%d",
			ErrProtocolMismatch, resp.GetAgentVersion(), p, version.Release(), version.MinAgentProtocol, version.AgentProtocol)
	}
	return Session{
		ProtocolVersion: resp.GetProtocolVersion(),
		AgentVersion:    resp.GetAgentVersion(),
		Capabilities:    resp.GetCapabilities(),
		InstanceID:      resp.GetInstanceId(),
	}, nil
}

// Status asks the agent for its state.
func (c *Client) Status(ctx context.Context) (Status, error) {
	resp, err := c.api.GetStatus(ctx, &agentv1.GetStatusRequest{})
	if err != nil {
		return Status{}, fromStatus(err, version.AgentProtocol)
	}
	return Status{
		AgentVersion: resp.GetAgentVersion(),
		InstanceID:   resp.GetInstanceId(),
		PID:          resp.GetPid(),
		ActiveJobs:   resp.GetActiveJobs(),
		ShuttingDown: resp.GetShuttingDown(),
	}, nil
}

// Shutdown asks the agent to stop gracefully.
func (c *Client) Shutdown(ctx context.Context, reason string) error {
	if _, err := c.api.Shutdown(ctx, &agentv1.ShutdownRequest{Reason: reason}); err != nil {
		return fromStatus(err, version.AgentProtocol)
	}
	return nil
}

// fromStatus maps the agent's wire errors back to error classes.
func fromStatus(err error, protocol uint32) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if ok && info.GetReason() == agentv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH.String() {
			return fmt.Errorf("%w: provider %s speaks protocol %d; agent %s supports %s..%s",
				ErrProtocolMismatch, version.Release(), protocol, info.GetMetadata()["agent_version"],
				info.GetMetadata()["agent_protocol_min"], info.GetMetadata()["agent_protocol_max"])
		}
	}
	if st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded {
		return fmt.Errorf("%w: %s", ErrUnavailable, st.Message())
	}
	return fmt.Errorf("agent: %s: %s", st.Code(), st.Message())
}
