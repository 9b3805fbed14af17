// Package server adapts the simhost daemon to gRPC. It holds no logic:
// every method converts the request, calls the daemon and converts the
// answer, with the daemon's error classes mapped to gRPC statuses.
package server

import (
	"context"

	"google.golang.org/grpc"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/internal/wire"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// Server serves SimhostService from a daemon.
type Server struct {
	simhostv1.UnimplementedSimhostServiceServer
	d *simhost.Daemon
}

var _ simhostv1.SimhostServiceServer = (*Server)(nil)

// New returns a Server for d.
func New(d *simhost.Daemon) *Server { return &Server{d: d} }

// Register registers the service on g.
func (s *Server) Register(g *grpc.Server) { simhostv1.RegisterSimhostServiceServer(g, s) }

// CreateVM creates a VM.
func (s *Server) CreateVM(_ context.Context, r *simhostv1.CreateVMRequest) (*simhostv1.CreateVMResponse, error) {
	vm, err := s.d.CreateVM(wire.SpecFromProto(r))
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.CreateVMResponse{Vm: wire.VMToProto(vm)}, nil
}

// ListVMs lists every VM.
func (s *Server) ListVMs(context.Context, *simhostv1.ListVMsRequest) (*simhostv1.ListVMsResponse, error) {
	vms, err := s.d.ListVMs()
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	out := &simhostv1.ListVMsResponse{}
	for _, vm := range vms {
		out.Vms = append(out.Vms, wire.VMToProto(vm))
	}
	return out, nil
}

// GetVM returns one VM.
func (s *Server) GetVM(_ context.Context, r *simhostv1.GetVMRequest) (*simhostv1.GetVMResponse, error) {
	vm, err := s.d.GetVM(r.GetVmId())
	if err != nil {
		return nil, wire.ToStatus(err)
	}
	return &simhostv1.GetVMResponse{Vm: wire.VMToProto(vm)}, nil
}

// DeleteVM deletes a VM.
func (s *Server) DeleteVM(_ context.Context, r *simhostv1.DeleteVMRequest) (*simhostv1.DeleteVMResponse, error) {
	return &simhostv1.DeleteVMResponse{}, wire.ToStatus(s.d.DeleteVM(r.GetVmId()))
}

// StartVM starts a VM.
func (s *Server) StartVM(_ context.Context, r *simhostv1.StartVMRequest) (*simhostv1.StartVMResponse, error) {
	return &simhostv1.StartVMResponse{}, wire.ToStatus(s.d.StartVM(r.GetVmId()))
}

// StopVM stops a VM.
func (s *Server) StopVM(_ context.Context, r *simhostv1.StopVMRequest) (*simhostv1.StopVMResponse, error) {
	return &simhostv1.StopVMResponse{}, wire.ToStatus(s.d.StopVM(r.GetVmId(), wire.StopModeFromProto(r.GetMode())))
}

// WriteDisk performs one guest write.
func (s *Server) WriteDisk(ctx context.Context, r *simhostv1.WriteDiskRequest) (*simhostv1.WriteDiskResponse, error) {
	return &simhostv1.WriteDiskResponse{}, wire.ToStatus(s.d.WriteDisk(ctx, wire.WriteFromProto(r)))
}

// RunWorkload runs a workload and streams its progress.
func (s *Server) RunWorkload(r *simhostv1.RunWorkloadRequest, stream grpc.ServerStreamingServer[simhostv1.RunWorkloadResponse]) error {
	send := func(p simhost.WorkloadProgress) { stream.Send(wire.ProgressToProto(p)) }
	_, err := s.d.RunWorkload(stream.Context(), wire.WorkloadFromProto(r), send)
	return wire.ToStatus(err)
}

// MaxMessageSize bounds a message on the wire (a WriteDisk carries up to
// this much data); the client uses the same bound.
const MaxMessageSize = 64 << 20

// NewGRPCServer returns a gRPC server with the message bounds the service
// needs and s registered on it.
func NewGRPCServer(s *Server) *grpc.Server {
	g := grpc.NewServer(grpc.MaxRecvMsgSize(MaxMessageSize), grpc.MaxSendMsgSize(MaxMessageSize))
	s.Register(g)
	return g
}
