package registry

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/secret"
)

// Input bounds of a registration request.
const (
	maxIDLen       = 64
	maxSecretLen   = 256
	maxCSRLen      = 8 << 10
	maxHostnameLen = 255
)

// Request is one registration attempt.
type Request struct {
	KeyID     string
	Secret    secret.String
	ProjectID string
	CSR       []byte // DER
	Hostname  string
	// Addr is the client's network address without the port; empty
	// when unknown.
	Addr string
}

// Issued is a certificate the registry issued to a host.
type Issued struct {
	HostID    string
	ProjectID string
	Cert      *x509.Certificate
	CA        *x509.Certificate
}

// Register redeems the key in req for a host certificate. A retry with the
// same key and public key returns the same host id with a new certificate;
// another public key is refused with state.ErrKeyRedeemed and logged as a
// probable theft.
//
// Failed attempts are limited by Config.Limits, and a refused attempt
// fails with a *LimitError (ErrRateLimited) saying when to retry:
//
//   - Every failure counts against the client address except a used key
//     (the caller holds the secret and another public key won the key: a
//     theft, logged as such, or a race between one fleet's installers).
//     An address over its limit is refused before any check.
//   - Every failure counts against the key id. A key id over its limit
//     refuses only attempts that do not carry the key's secret (compared
//     with a read, not the redeeming transaction), so failures from other
//     addresses never block the key's holder.
func (r *Registry) Register(ctx context.Context, req Request) (Issued, error) {
	if err := r.checkLimits(ctx, req); err != nil {
		return Issued{}, err
	}
	issued, err := r.register(ctx, req)
	if err != nil {
		r.countFailure(req, err)
	}
	return issued, err
}

func (r *Registry) register(ctx context.Context, req Request) (Issued, error) {
	csr, err := r.checkRequest(req)
	if err != nil {
		return Issued{}, err
	}
	pkHash, err := identity.PublicKeyHash(csr.PublicKey)
	if err != nil {
		return Issued{}, fmt.Errorf("%w: %w", ca.ErrCSRInvalid, err)
	}
	host, created, err := r.store.Redeem(ctx, state.Redemption{
		KeyID: req.KeyID, SecretHash: identity.SecretHash(req.Secret), ProjectID: req.ProjectID,
		PublicKeyHash: pkHash, Hostname: req.Hostname, NewHostID: uuid.NewString(), Now: r.cfg.Now(),
	})
	if err != nil {
		r.logRefusal(req, err)
		return Issued{}, err
	}
	issued, err := r.issue(ctx, host, csr, pkHash)
	if err != nil {
		return Issued{}, err
	}
	r.log.Info("host registered", "host_id", host.ID, "project_id", host.ProjectID, "key_id", req.KeyID,
		"hostname", req.Hostname, "new_host", created, "not_after", issued.Cert.NotAfter)
	return issued, nil
}

func (r *Registry) checkRequest(req Request) (*x509.CertificateRequest, error) {
	switch {
	case req.KeyID == "" || len(req.KeyID) > maxIDLen:
		return nil, fmt.Errorf("%w: key_id must be 1-%d characters", ErrInvalid, maxIDLen)
	case req.Secret.IsZero() || len(req.Secret.Reveal()) > maxSecretLen:
		return nil, fmt.Errorf("%w: secret must be 1-%d characters", ErrInvalid, maxSecretLen)
	case len(req.ProjectID) > maxIDLen:
		return nil, fmt.Errorf("%w: project_id longer than %d", ErrInvalid, maxIDLen)
	case len(req.CSR) == 0 || len(req.CSR) > maxCSRLen:
		return nil, fmt.Errorf("%w: csr must be 1-%d bytes", ca.ErrCSRInvalid, maxCSRLen)
	case len(req.Hostname) > maxHostnameLen:
		return nil, fmt.Errorf("%w: hostname longer than %d", ErrInvalid, maxHostnameLen)
	}
	return ca.ParseCSR(req.CSR)
}

// logRefusal audits a failed redemption by key id, never by secret.
func (r *Registry) logRefusal(req Request, err error) {
	if errors.Is(err, state.ErrKeyRedeemed) {
		project := ""
		if kerr := (*state.KeyError)(nil); errors.As(err, &kerr) {
			project = kerr.ProjectID
		}
		r.log.Warn("registration key reused with a different public key; probable theft",
			"key_id", req.KeyID, "project_id", project, "hostname", req.Hostname)
		return
	}
	r.log.Warn("registration refused", "key_id", req.KeyID, "hostname", req.Hostname, "error", err)
}

// issue signs a certificate for host from csr and records it.
func (r *Registry) issue(ctx context.Context, host state.Host, csr *x509.CertificateRequest, pkHash string) (Issued, error) {
	cert, err := r.ca.IssueClient(ca.ClientSpec{
		CommonName: host.ID, OrgUnit: ca.HostOU, PublicKey: csr.PublicKey,
		Lifetime: r.cfg.CertLifetime, Now: r.cfg.Now(),
	})
	if err != nil {
		return Issued{}, err
	}
	if err := r.store.SetHostCertificate(ctx, host.ID, cert.SerialNumber.Text(16), pkHash, cert.NotAfter); err != nil {
		return Issued{}, err
	}
	return Issued{HostID: host.ID, ProjectID: host.ProjectID, Cert: cert, CA: r.ca.Cert()}, nil
}

// Renew issues a new certificate to a registered host over its mTLS
// channel; the CSR may carry the current key or a new one.
func (r *Registry) Renew(ctx context.Context, hostID string, csrDER []byte) (Issued, error) {
	if len(csrDER) == 0 || len(csrDER) > maxCSRLen {
		return Issued{}, fmt.Errorf("%w: csr must be 1-%d bytes", ca.ErrCSRInvalid, maxCSRLen)
	}
	csr, err := ca.ParseCSR(csrDER)
	if err != nil {
		return Issued{}, err
	}
	if err := r.CheckHost(ctx, hostID); err != nil {
		return Issued{}, err
	}
	host, err := r.store.GetHost(ctx, hostID)
	if err != nil {
		return Issued{}, err
	}
	pkHash, err := identity.PublicKeyHash(csr.PublicKey)
	if err != nil {
		return Issued{}, fmt.Errorf("%w: %w", ca.ErrCSRInvalid, err)
	}
	issued, err := r.issue(ctx, host, csr, pkHash)
	if err != nil {
		return Issued{}, err
	}
	r.log.Info("host certificate renewed", "host_id", hostID, "not_after", issued.Cert.NotAfter)
	return issued, nil
}
