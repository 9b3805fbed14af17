// Package client is the typed client of hvm-simhost: the replication
// provider and the hvm-simhost command line call the daemon through it.
// Callers see the daemon's plain Go types, and its errors wrap the same
// classes the daemon returns (simhost.ErrNotFound, simhost.ErrNotRunning,
// ...), so errors.Is works across the wire.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/internal/wire"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
	"hvmigrate/shared/ipc"
)

// ErrUnavailable means the daemon could not be reached.
var ErrUnavailable = wire.ErrUnavailable

// maxMessageSize matches the server's bound.
const maxMessageSize = 64 << 20

// Client is one connection to a simhost daemon. It is safe for
// concurrent use.
type Client struct {
	conn *grpc.ClientConn
	api  simhostv1.SimhostServiceClient
}

// Dial prepares a connection to the daemon's socket at endpoint; it
// connects on the first call.
func Dial(endpoint string) (*Client, error) {
	dialer := func(ctx context.Context, _ string) (net.Conn, error) { return ipc.Dial(ctx, endpoint) }
	conn, err := grpc.NewClient("passthrough:///hvm-simhost",
		grpc.WithContextDialer(dialer),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageSize), grpc.MaxCallSendMsgSize(maxMessageSize)),
	)
	if err != nil {
		return nil, fmt.Errorf("simhost client for %s: %w", endpoint, err)
	}
	return &Client{conn: conn, api: simhostv1.NewSimhostServiceClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// CreateVM creates a VM (powered off).
func (c *Client) CreateVM(ctx context.Context, spec simhost.VMSpec) (simhost.VM, error) {
	r, err := c.api.CreateVM(ctx, wire.SpecToProto(spec))
	if err != nil {
		return simhost.VM{}, wire.FromStatus(err)
	}
	return wire.VMFromProto(r.GetVm()), nil
}

// ListVMs lists every VM.
func (c *Client) ListVMs(ctx context.Context) ([]simhost.VM, error) {
	r, err := c.api.ListVMs(ctx, &simhostv1.ListVMsRequest{})
	if err != nil {
		return nil, wire.FromStatus(err)
	}
	out := make([]simhost.VM, 0, len(r.GetVms()))
	for _, v := range r.GetVms() {
		out = append(out, wire.VMFromProto(v))
	}
	return out, nil
}

// GetVM returns one VM.
func (c *Client) GetVM(ctx context.Context, id string) (simhost.VM, error) {
	r, err := c.api.GetVM(ctx, &simhostv1.GetVMRequest{VmId: id})
	if err != nil {
		return simhost.VM{}, wire.FromStatus(err)
	}
	return wire.VMFromProto(r.GetVm()), nil
}

// DeleteVM deletes a VM that is off.
func (c *Client) DeleteVM(ctx context.Context, id string) error {
	_, err := c.api.DeleteVM(ctx, &simhostv1.DeleteVMRequest{VmId: id})
	return wire.FromStatus(err)
}

// StartVM starts a VM.
func (c *Client) StartVM(ctx context.Context, id string) error {
	_, err := c.api.StartVM(ctx, &simhostv1.StartVMRequest{VmId: id})
	return wire.FromStatus(err)
}

// StopVM shuts a VM down or turns it off.
func (c *Client) StopVM(ctx context.Context, id string, mode simhost.StopMode) error {
	_, err := c.api.StopVM(ctx, &simhostv1.StopVMRequest{VmId: id, Mode: wire.StopModeToProto(mode)})
	return wire.FromStatus(err)
}

// WriteDisk performs one guest write.
func (c *Client) WriteDisk(ctx context.Context, req simhost.WriteRequest) error {
	_, err := c.api.WriteDisk(ctx, wire.WriteToProto(req))
	return wire.FromStatus(err)
}

// RunWorkload runs a workload until it ends or ctx is cancelled, calling
// progress (if not nil) with each report, and returns the final report.
func (c *Client) RunWorkload(ctx context.Context, spec simhost.WorkloadSpec, progress func(simhost.WorkloadProgress)) (simhost.WorkloadProgress, error) {
	stream, err := c.api.RunWorkload(ctx, wire.WorkloadToProto(spec))
	if err != nil {
		return simhost.WorkloadProgress{}, wire.FromStatus(err)
	}
	var last simhost.WorkloadProgress
	for {
		r, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return last, nil
			}
			return last, wire.FromStatus(err)
		}
		last = wire.ProgressFromProto(r)
		if progress != nil {
			progress(last)
		}
	}
}
