// Package server adapts the agent's core to the gRPC AgentService: it
// converts messages and maps error classes to status codes, and holds no
// logic of its own.
package server

import (
	"context"
	"errors"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"hvmigrate/agent/internal/service"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
)

// ErrorDomain is the ErrorInfo domain of agent errors.
const ErrorDomain = "agent.hvmigrate"

// Server implements agentv1.AgentServiceServer over a service.Agent.
type Server struct {
	agentv1.UnimplementedAgentServiceServer
	agent *service.Agent
}

// Register adds the agent service and the standard health service to s.
func Register(s *grpc.Server, agent *service.Agent) *health.Server {
	agentv1.RegisterAgentServiceServer(s, &Server{agent: agent})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(agentv1.AgentService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, hs)
	return hs
}

// Handshake negotiates the session.
func (s *Server) Handshake(_ context.Context, req *agentv1.HandshakeRequest) (*agentv1.HandshakeResponse, error) {
	w, err := s.agent.Handshake(service.Hello{
		ProtocolVersion: req.GetProtocolVersion(),
		ProviderVersion: req.GetProviderVersion(),
		Capabilities:    req.GetCapabilities(),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &agentv1.HandshakeResponse{
		ProtocolVersion: w.ProtocolVersion,
		AgentVersion:    w.AgentVersion,
		Capabilities:    w.Capabilities,
		InstanceId:      w.InstanceID,
	}, nil
}

// GetStatus reports the agent's state.
func (s *Server) GetStatus(context.Context, *agentv1.GetStatusRequest) (*agentv1.GetStatusResponse, error) {
	st := s.agent.Status()
	return &agentv1.GetStatusResponse{
		AgentVersion: st.AgentVersion,
		InstanceId:   st.InstanceID,
		Pid:          int64(st.PID),
		StartedUnix:  st.Started.Unix(),
		ActiveJobs:   uint32(st.ActiveJobs),
		ShuttingDown: st.ShuttingDown,
	}, nil
}

// Shutdown asks the agent to stop gracefully.
func (s *Server) Shutdown(_ context.Context, req *agentv1.ShutdownRequest) (*agentv1.ShutdownResponse, error) {
	s.agent.RequestShutdown("requested over the wire: " + req.GetReason())
	return &agentv1.ShutdownResponse{}, nil
}

// toStatus maps the agent's error classes to gRPC status codes.
func toStatus(err error) error {
	var mm *service.MismatchError
	if errors.As(err, &mm) {
		st := status.New(codes.FailedPrecondition, err.Error())
		withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{
			Reason: agentv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH.String(),
			Domain: ErrorDomain,
			Metadata: map[string]string{
				"agent_version":      mm.AgentVersion,
				"agent_protocol_min": strconv.FormatUint(uint64(mm.AgentMin), 10),
				"agent_protocol_max": strconv.FormatUint(uint64(mm.AgentMax), 10),
			},
		})
		if derr == nil {
			st = withInfo
		}
		return st.Err()
	}
	return status.Error(codes.Internal, err.Error())
}
