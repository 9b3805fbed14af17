package azure

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Doer sends one HTTP request; it is the SDK's transporter interface, and
// what a fault-injecting wrapper implements.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// newTransport builds the HTTP stack below the SDK pipeline: the host guard,
// the optional wrapper, and our own client.
func newTransport(cfg Config, host string) Doer {
	var d Doer = newHTTPClient(cfg)
	if cfg.WrapTransport != nil {
		d = cfg.WrapTransport(d)
	}
	return &guard{host: host, next: d}
}

// newHTTPClient returns a client that never follows redirects.
func newHTTPClient(cfg Config) *http.Client {
	tr := &http.Transport{
		Proxy:                 cfg.Proxy,
		DialContext:           (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Bodies are up to 4 MiB: a large write buffer hands TLS full
		// 16 KiB records instead of 4 KiB ones, a quarter of the records,
		// seals and write system calls.
		WriteBufferSize: 256 << 10,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guard refuses any request that is not https to the endpoint's host.
type guard struct {
	host string
	next Doer
}

func (g *guard) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || hostPort(req.URL) != g.host || req.URL.User != nil {
		return nil, fmt.Errorf("%w: request to %s://%s refused", ErrForeignHost, req.URL.Scheme, req.URL.Host)
	}
	return g.next.Do(req)
}
