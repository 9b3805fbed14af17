package azure

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Doer sends one HTTP request: the SDK's transporter interface, and what a
// fault-injecting wrapper implements.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// newTransport builds the stack below the SDK pipeline: the host guard, the
// optional wrapper, and our own client.
func newTransport(cfg Config, host string, hc *http.Client) Doer {
	var d Doer = hc
	if cfg.WrapTransport != nil {
		d = cfg.WrapTransport(d)
	}
	return &guard{host: host, allowHTTP: cfg.AllowHTTP, next: d}
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
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// guard refuses any request that is not to the endpoint's host over the
// allowed scheme.
type guard struct {
	host      string
	allowHTTP bool
	next      Doer
}

func (g *guard) Do(req *http.Request) (*http.Response, error) {
	okScheme := req.URL.Scheme == "https" || (g.allowHTTP && req.URL.Scheme == "http")
	if !okScheme || hostPort(req.URL) != g.host || req.URL.User != nil {
		return nil, fmt.Errorf("%w: request to %s://%s refused", ErrForeignHost, req.URL.Scheme, req.URL.Host)
	}
	return g.next.Do(req)
}

// hostPort returns the lower-case host with the port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
