package hubclient

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	hubv1 "hvmigrate/shared/gen/hvmigrate/hub/v1"
	"hvmigrate/shared/identity"
)

// renewalDue reports whether the certificate is inside the renewal window
// and the last renewal is not too recent.
func (l *Link) renewalDue() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.creds.cert.NotAfter) < l.cfg.RenewBefore && time.Since(l.lastRenewal) >= l.cfg.MinRenewInterval
}

// untilRenewal returns how long to wait before the next renewal attempt.
func (l *Link) untilRenewal() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := time.Until(l.creds.cert.NotAfter.Add(-l.cfg.RenewBefore))
	if next := time.Until(l.lastRenewal.Add(l.cfg.MinRenewInterval)); next > wait {
		wait = next
	}
	return max(wait, time.Second)
}

// renew asks the hub for a new certificate for the same key and host id,
// stores it and uses it from the next connection on.
func (l *Link) renew(ctx context.Context, client hubv1.ProviderServiceClient) error {
	l.mu.Lock()
	c := l.creds
	l.lastRenewal = time.Now()
	l.mu.Unlock()
	csr, err := identity.NewCSR(c.key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, l.cfg.ConnectTimeout)
	defer cancel()
	resp, err := client.RenewCertificate(ctx, &hubv1.RenewCertificateRequest{CsrDer: csr})
	if err != nil {
		return fromStatus(err)
	}
	cert, err := x509.ParseCertificate(resp.GetCertificateDer())
	if err != nil {
		return fmt.Errorf("renewed certificate: %w", err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: identity.PoolOf(c.ca), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return fmt.Errorf("renewed certificate does not chain to the hub CA: %w", err)
	}
	if cert.Subject.CommonName != c.id.HostID {
		return fmt.Errorf("renewed certificate names host %q, want %q", cert.Subject.CommonName, c.id.HostID)
	}
	c.cert, c.id.NotAfter = cert, cert.NotAfter
	if err := saveCredentials(l.cfg.Dir, c); err != nil {
		return err
	}
	l.mu.Lock()
	l.creds = c
	l.mu.Unlock()
	l.log.Info("certificate renewed", "host_id", c.id.HostID, "not_after", cert.NotAfter)
	return nil
}
