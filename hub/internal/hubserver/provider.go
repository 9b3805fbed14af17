package hubserver

import (
	"context"
	"net"

	"google.golang.org/grpc/peer"

	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/rpcstatus"
	"hvmigrate/hub/internal/stream"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/secret"
)

// registrationAPI adapts the registry to RegistrationService.
type registrationAPI struct {
	hubv1.UnimplementedRegistrationServiceServer
	reg *registry.Registry
}

// Register redeems a registration key.
func (a registrationAPI) Register(ctx context.Context, req *hubv1.RegisterRequest) (*hubv1.RegisterResponse, error) {
	issued, err := a.reg.Register(ctx, registry.Request{
		KeyID: req.GetKeyId(), Secret: secret.New(req.GetSecret()), ProjectID: req.GetProjectId(),
		CSR: req.GetCsrDer(), Hostname: req.GetHostname(), Addr: clientAddr(ctx),
	})
	if err != nil {
		return nil, rpcstatus.ToStatus(err)
	}
	return &hubv1.RegisterResponse{HostId: issued.HostID, ProjectId: issued.ProjectID,
		CertificateDer: issued.Cert.Raw, CaCertificateDer: issued.CA.Raw, NotAfterUnix: issued.Cert.NotAfter.Unix()}, nil
}

// providerAPI adapts the registry and the stream to ProviderService.
type providerAPI struct {
	hubv1.UnimplementedProviderServiceServer
	auth   hostAuth
	stream *stream.Server
}

// RenewCertificate issues a new certificate to the calling host.
func (a providerAPI) RenewCertificate(ctx context.Context, req *hubv1.RenewCertificateRequest) (*hubv1.RenewCertificateResponse, error) {
	hostID, err := a.auth.hostFromPeer(ctx)
	if err != nil {
		return nil, rpcstatus.ToStatus(err)
	}
	issued, err := a.auth.reg.Renew(ctx, hostID, req.GetCsrDer())
	if err != nil {
		return nil, rpcstatus.ToStatus(err)
	}
	return &hubv1.RenewCertificateResponse{CertificateDer: issued.Cert.Raw, NotAfterUnix: issued.Cert.NotAfter.Unix()}, nil
}

// Connect serves the host's stream.
func (a providerAPI) Connect(gs hubv1.ProviderService_ConnectServer) error {
	return a.stream.Connect(gs)
}

// clientAddr is the caller's IP address without the port, or "" when the
// transport does not say.
func clientAddr(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}
