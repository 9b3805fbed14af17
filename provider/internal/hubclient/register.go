package hubclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	grpccreds "google.golang.org/grpc/credentials"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
)

// Protocol is the provider-stream protocol version this build speaks.
const Protocol uint32 = 1

// registerTimeout bounds one registration call.
const registerTimeout = 30 * time.Second

// Register registers this host with the hub named in keyFile and stores
// the identity in dir (created 0700; key and certificates 0600). The
// private key is generated here and never leaves the host; the hub is
// trusted only if its CA matches the key file's fingerprint.
func Register(ctx context.Context, keyFile, dir string) (Identity, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return Identity{}, fmt.Errorf("read key file: %w", err)
	}
	kf, err := identity.ParseKeyFile(b)
	if err != nil {
		return Identity{}, fmt.Errorf("%s: %w", keyFile, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Identity{}, fmt.Errorf("create %s: %w", dir, err)
	}
	key, err := loadOrCreateKey(dir)
	if err != nil {
		return Identity{}, err
	}
	csr, err := identity.NewCSR(key)
	if err != nil {
		return Identity{}, err
	}
	resp, err := redeem(ctx, kf, csr)
	if err != nil {
		return Identity{}, explainRegister(err, kf)
	}
	c, err := credentialsFrom(kf, resp)
	if err != nil {
		return Identity{}, err
	}
	c.key = key
	return c.id, saveCredentials(dir, c)
}

// redeem sends the key and CSR to the pinned hub.
func redeem(ctx context.Context, kf identity.KeyFile, csr []byte) (*hubv1.RegisterResponse, error) {
	tlsCfg, err := identity.PinnedClientConfig(identity.Pin{Fingerprint: kf.CAFingerprint}, kf.Hub, nil)
	if err != nil {
		return nil, err
	}
	if err := probe(ctx, kf.Hub, tlsCfg); err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(kf.Hub, grpc.WithTransportCredentials(grpccreds.NewTLS(tlsCfg)))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", kf.Hub, err)
	}
	defer conn.Close()
	hostname, _ := os.Hostname()
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	resp, err := hubv1.NewRegistrationServiceClient(conn).Register(ctx, &hubv1.RegisterRequest{
		KeyId: kf.KeyID, Secret: kf.Secret.Reveal(), ProjectId: kf.ProjectID,
		CsrDer: csr, Hostname: hostname, Protocol: Protocol,
	})
	if err != nil {
		return nil, fromStatus(err)
	}
	return resp, nil
}

// credentialsFrom checks the hub's answer: the CA is the pinned one and the
// certificate chains to it.
func credentialsFrom(kf identity.KeyFile, resp *hubv1.RegisterResponse) (credentials, error) {
	caCert, err := x509.ParseCertificate(resp.GetCaCertificateDer())
	if err != nil {
		return credentials{}, fmt.Errorf("hub CA certificate: %w", err)
	}
	if !identity.FingerprintsEqual(identity.Fingerprint(caCert), kf.CAFingerprint) {
		return credentials{}, fmt.Errorf("registration answer: %w", identity.ErrPinMismatch)
	}
	cert, err := x509.ParseCertificate(resp.GetCertificateDer())
	if err != nil {
		return credentials{}, fmt.Errorf("host certificate: %w", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: identity.PoolOf(caCert),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return credentials{}, fmt.Errorf("host certificate does not chain to the hub CA: %w", err)
	}
	id := Identity{HostID: resp.GetHostId(), ProjectID: resp.GetProjectId(), Hub: kf.Hub,
		CAFingerprint: identity.Fingerprint(caCert), NotAfter: cert.NotAfter}
	return credentials{id: id, cert: cert, ca: caCert}, nil
}

// explainRegister adds what to do next to a registration error.
func explainRegister(err error, kf identity.KeyFile) error {
	var he *HubError
	switch {
	case errors.Is(err, ErrKeyExpired) && errors.As(err, &he):
		return fmt.Errorf("%w at %s; ask the operator for a new key (hvmctl key create --project %s)", ErrKeyExpired, he.Metadata["expired_at"], kf.ProjectID)
	case errors.Is(err, ErrKeyUsed):
		return fmt.Errorf("%w; each key registers one host: ask the operator for a new key", err)
	case errors.Is(err, ErrKeyUnknown):
		return fmt.Errorf("%w; check that the key file is for the hub at %s", err, kf.Hub)
	}
	return fmt.Errorf("register with %s: %w", kf.Hub, err)
}

// probe completes one TLS handshake with the hub so that a pin mismatch
// comes back as identity.ErrPinMismatch, not as a transport status.
func probe(ctx context.Context, addr string, cfg *tls.Config) error {
	d := tls.Dialer{Config: cfg.Clone()}
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, identity.ErrPinMismatch) {
			return fmt.Errorf("%w: refusing to send the key to %s", err, addr)
		}
		return fmt.Errorf("connect to hub %s: %w", addr, err)
	}
	return conn.Close()
}
