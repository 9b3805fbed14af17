// Package server adapts the agent's core to the gRPC AgentService: it
// converts messages and maps error classes to status codes, and holds no
// logic of its own.
package server

import (
	"context"
	"errors"
	"strconv"

	"io/fs"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"hvmigrate/agent/internal/chunkhash"
	"hvmigrate/agent/internal/hostlimits"
	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/service"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/units"
)

// ErrorDomain is the ErrorInfo domain of agent errors.
const ErrorDomain = "agent.hvmigrate"

// Server implements agentv1.AgentServiceServer over a service.Agent.
type Server struct {
	agentv1.UnimplementedAgentServiceServer
	agent  *service.Agent
	jobs   *jobs.Manager
	limits *hostlimits.Limits
}

// Register adds the agent service and the standard health service to s.
func Register(s *grpc.Server, agent *service.Agent, jm *jobs.Manager, limits *hostlimits.Limits) *health.Server {
	agentv1.RegisterAgentServiceServer(s, &Server{agent: agent, jobs: jm, limits: limits})
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

// toStatus maps the agent's error classes to gRPC status codes, with an
// ErrorInfo reason callers can test.
func toStatus(err error) error {
	var mm *service.MismatchError
	if errors.As(err, &mm) {
		return withReason(codes.FailedPrecondition, err, agentv1.ErrorReason_ERROR_REASON_PROTOCOL_MISMATCH, map[string]string{
			"agent_version":      mm.AgentVersion,
			"agent_protocol_min": strconv.FormatUint(uint64(mm.AgentMin), 10),
			"agent_protocol_max": strconv.FormatUint(uint64(mm.AgentMax), 10),
		})
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, jobs.ErrStopping):
		code = codes.Unavailable
	case errors.Is(err, jobs.ErrInvalid) || errors.Is(err, hostlimits.ErrInvalid) || errors.Is(err, units.ErrOutOfRange) ||
		errors.Is(err, chunkhash.ErrChunkSize):
		code = codes.InvalidArgument
	case errors.Is(err, jobs.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, jobs.ErrConflict):
		code = codes.AlreadyExists
	}
	return withReason(code, err, reasonOf(err), nil)
}

// reasonOf classifies err for callers on the other side of the wire.
func reasonOf(err error) agentv1.ErrorReason {
	switch {
	case errors.Is(err, jobs.ErrInvalid) || errors.Is(err, hostlimits.ErrInvalid) || errors.Is(err, units.ErrOutOfRange) ||
		errors.Is(err, chunkhash.ErrChunkSize):
		return agentv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT
	case errors.Is(err, jobs.ErrNotFound):
		return agentv1.ErrorReason_ERROR_REASON_JOB_NOT_FOUND
	case errors.Is(err, jobs.ErrConflict):
		return agentv1.ErrorReason_ERROR_REASON_JOB_CONFLICT
	case errors.Is(err, jobs.ErrSourceMissing) || errors.Is(err, fs.ErrNotExist):
		return agentv1.ErrorReason_ERROR_REASON_SOURCE_MISSING
	case errors.Is(err, jobs.ErrSourceCorrupt):
		return agentv1.ErrorReason_ERROR_REASON_SOURCE_CORRUPT
	case errors.Is(err, storeerr.ErrDenied):
		return agentv1.ErrorReason_ERROR_REASON_STORAGE_AUTH
	case storeerr.Retryable(err):
		return agentv1.ErrorReason_ERROR_REASON_STORAGE_UNAVAILABLE
	}
	return agentv1.ErrorReason_ERROR_REASON_UNSPECIFIED
}

func withReason(code codes.Code, err error, reason agentv1.ErrorReason, meta map[string]string) error {
	st := status.New(code, err.Error())
	if reason == agentv1.ErrorReason_ERROR_REASON_UNSPECIFIED {
		return st.Err()
	}
	withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: reason.String(), Domain: ErrorDomain, Metadata: meta})
	if derr != nil {
		return st.Err()
	}
	return withInfo.Err()
}
