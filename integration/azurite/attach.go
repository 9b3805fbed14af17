package azurite

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"

	"hvmigrate/shared/secret"
)

// Attach returns a Server for an emulator that is already running (started
// by another process with Run), so its clients and SAS helpers can be used.
// Close on it does nothing.
func Attach(endpoint string, caPEM []byte) (*Server, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || strings.Trim(u.Path, "/") != AccountName {
		return nil, fmt.Errorf("azurite endpoint %q: want https://HOST:PORT/%s", endpoint, AccountName)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("azurite CA: no PEM certificate")
	}
	return &Server{
		Endpoint: strings.TrimSuffix(endpoint, "/"),
		Host:     u.Host,
		CAPEM:    caPEM,
		RootCAs:  pool,
		Account:  AccountName,
		Key:      secret.New(accountKey),
		proc:     &process{exited: make(chan struct{})},
	}, nil
}
