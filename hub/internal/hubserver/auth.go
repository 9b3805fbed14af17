package hubserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/registry"
	"hvmigrate/hub/internal/rpcstatus"
	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
)

// providerTLS asks for a host certificate, verifies one if given against
// the project CA, and refuses a certificate that is not a host's. Whether
// the host is revoked is checked per call (hostFromPeer), so that the host
// gets an error that says so instead of a bare handshake alert.
func providerTLS(cert tls.Certificate, project *ca.CA) *tls.Config {
	cfg := identity.ServerConfig(cert, project.Pool(), tls.VerifyClientCertIfGiven)
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return nil // only Register is served without one; see hostFromPeer
		}
		_, err := hostOfCert(cs.PeerCertificates[0])
		return err
	}
	return cfg
}

// adminTLS requires a client certificate from the admin CA.
func adminTLS(cert tls.Certificate, admin *x509.CertPool) *tls.Config {
	return identity.ServerConfig(cert, admin, tls.RequireAndVerifyClientCert)
}

func hostOfCert(leaf *x509.Certificate) (string, error) {
	if !slices.Contains(leaf.Subject.OrganizationalUnit, ca.HostOU) || leaf.Subject.CommonName == "" {
		return "", fmt.Errorf("%w: not a host certificate", rpcstatus.ErrUnauthenticated)
	}
	return leaf.Subject.CommonName, nil
}

// hostAuth authenticates provider calls.
type hostAuth struct {
	reg *registry.Registry
}

// hostFromPeer returns the host id of a call that carries a verified,
// non-revoked host certificate.
func (a hostAuth) hostFromPeer(ctx context.Context) (string, error) {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return "", rpcstatus.ErrUnauthenticated
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.VerifiedChains) == 0 || len(info.State.VerifiedChains[0]) == 0 {
		return "", rpcstatus.ErrUnauthenticated
	}
	hostID, err := hostOfCert(info.State.VerifiedChains[0][0])
	if err != nil {
		return "", err
	}
	return hostID, a.reg.CheckHost(ctx, hostID)
}

// openMethods are served without a host certificate.
func openMethod(fullMethod string) bool {
	return fullMethod == hubv1.RegistrationService_Register_FullMethodName
}

// unary refuses every unary call but Register without a host identity.
func (a hostAuth) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if !openMethod(info.FullMethod) {
		if _, err := a.hostFromPeer(ctx); err != nil {
			return nil, rpcstatus.ToStatus(err)
		}
	}
	return next(ctx, req)
}

// stream refuses every stream without a host identity.
func (a hostAuth) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	if !openMethod(info.FullMethod) {
		if _, err := a.hostFromPeer(ss.Context()); err != nil {
			return rpcstatus.ToStatus(err)
		}
	}
	return next(srv, ss)
}
