// Package adminapi serves the operator's API (hvmctl) on the admin
// listener: it checks the admin identity on every call, converts, and
// delegates to the registry and the state store.
package adminapi

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
	"hvmigrate/shared/identity"
)

// Connections tells whether a host has a live stream.
type Connections interface {
	Connected(hostID string) bool
}

// Streams is what the admin API needs of the provider stream.
type Streams interface {
	Connections
	Enqueue(ctx context.Context, hostID string, c stream.Command) (stream.Command, error)
}

// Server implements adminv1.AdminServiceServer.
type Server struct {
	adminv1.UnimplementedAdminServiceServer
	reg     *registry.Registry
	store   *state.Store
	streams Streams
	ops     Operations
	log     hclog.Logger
}

var _ adminv1.AdminServiceServer = (*Server)(nil)

// New returns the admin API over reg and store.
func New(reg *registry.Registry, store *state.Store, streams Streams, log hclog.Logger) *Server {
	return &Server{reg: reg, store: store, streams: streams, log: log}
}

// Register adds the admin service to gs.
func Register(gs *grpc.Server, s *Server) {
	adminv1.RegisterAdminServiceServer(gs, s)
}

// CreateProject creates a project.
func (s *Server) CreateProject(ctx context.Context, req *adminv1.CreateProjectRequest) (*adminv1.CreateProjectResponse, error) {
	p, err := s.reg.CreateProject(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_PROJECT_NOT_FOUND)
	}
	return &adminv1.CreateProjectResponse{Project: projectToProto(p)}, nil
}

// ListProjects lists projects.
func (s *Server) ListProjects(ctx context.Context, _ *adminv1.ListProjectsRequest) (*adminv1.ListProjectsResponse, error) {
	ps, err := s.reg.Projects(ctx)
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED)
	}
	out := &adminv1.ListProjectsResponse{}
	for _, p := range ps {
		out.Projects = append(out.Projects, projectToProto(p))
	}
	return out, nil
}

// CreateRegistrationKey makes a key and returns its key file once.
func (s *Server) CreateRegistrationKey(ctx context.Context, req *adminv1.CreateRegistrationKeyRequest) (*adminv1.CreateRegistrationKeyResponse, error) {
	k, kf, err := s.reg.CreateKey(ctx, req.GetProject(), time.Duration(req.GetValidSeconds())*time.Second)
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_PROJECT_NOT_FOUND)
	}
	doc, err := identity.MarshalKeyFile(kf)
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED)
	}
	return &adminv1.CreateRegistrationKeyResponse{Key: keyToProto(k), KeyFile: doc}, nil
}

// ListRegistrationKeys lists keys.
func (s *Server) ListRegistrationKeys(ctx context.Context, req *adminv1.ListRegistrationKeysRequest) (*adminv1.ListRegistrationKeysResponse, error) {
	ks, err := s.reg.Keys(ctx, req.GetProject())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_PROJECT_NOT_FOUND)
	}
	out := &adminv1.ListRegistrationKeysResponse{}
	for _, k := range ks {
		out.Keys = append(out.Keys, keyToProto(k))
	}
	return out, nil
}

// RevokeRegistrationKey revokes a key.
func (s *Server) RevokeRegistrationKey(ctx context.Context, req *adminv1.RevokeRegistrationKeyRequest) (*adminv1.RevokeRegistrationKeyResponse, error) {
	k, err := s.reg.RevokeKey(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_KEY_NOT_FOUND)
	}
	return &adminv1.RevokeRegistrationKeyResponse{Key: keyToProto(k)}, nil
}

// ListHosts lists hosts.
func (s *Server) ListHosts(ctx context.Context, req *adminv1.ListHostsRequest) (*adminv1.ListHostsResponse, error) {
	hs, err := s.reg.Hosts(ctx, req.GetProject())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_PROJECT_NOT_FOUND)
	}
	out := &adminv1.ListHostsResponse{}
	for _, h := range hs {
		out.Hosts = append(out.Hosts, s.hostToProto(h))
	}
	return out, nil
}

// RevokeHost revokes a host and ends its stream.
func (s *Server) RevokeHost(ctx context.Context, req *adminv1.RevokeHostRequest) (*adminv1.RevokeHostResponse, error) {
	h, err := s.reg.RevokeHost(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND)
	}
	return &adminv1.RevokeHostResponse{Host: s.hostToProto(h)}, nil
}

// ListVms lists the inventory hosts reported.
func (s *Server) ListVms(ctx context.Context, req *adminv1.ListVmsRequest) (*adminv1.ListVmsResponse, error) {
	vms, err := s.store.VMs(ctx, req.GetHostId())
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND)
	}
	out := &adminv1.ListVmsResponse{}
	for _, vm := range vms {
		out.Vms = append(out.Vms, vmToProto(vm))
	}
	return out, nil
}

// SetThrottle queues a set-throttle command for a host.
func (s *Server) SetThrottle(ctx context.Context, req *adminv1.SetThrottleRequest) (*adminv1.SetThrottleResponse, error) {
	if req.GetWorkHoursBps() < 0 || req.GetOffHoursBps() < 0 {
		return nil, toStatus(fmt.Errorf("%w: bandwidth must not be negative", registry.ErrInvalid), adminv1.ErrorReason_ERROR_REASON_UNSPECIFIED)
	}
	c, err := s.streams.Enqueue(ctx, req.GetHostId(), stream.Command{SetThrottle: &stream.Throttle{
		WorkHoursBps: req.GetWorkHoursBps(), OffHoursBps: req.GetOffHoursBps(), WorkStart: req.GetWorkStart(), WorkEnd: req.GetWorkEnd()}})
	if err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND)
	}
	s.log.Info("throttle queued", "host_id", req.GetHostId(), "command_id", c.ID)
	if err := s.store.SetThrottle(ctx, state.Throttle{HostID: req.GetHostId(), WorkBps: req.GetWorkHoursBps(), OffBps: req.GetOffHoursBps(),
		WorkStart: req.GetWorkStart(), WorkEnd: req.GetWorkEnd(), CommandID: c.ID, UpdatedAt: time.Now()}); err != nil {
		return nil, toStatus(err, adminv1.ErrorReason_ERROR_REASON_HOST_NOT_FOUND)
	}
	return &adminv1.SetThrottleResponse{CommandId: c.ID}, nil
}
