// Package storehttp is the HTTP stack below the Azure SDK pipeline that the
// agent's and the hub's storage clients share: a client of our own (TLS 1.2
// or later, redirects never followed) behind a guard that sends a request
// only to the configured endpoint's host, over https unless a test allows
// plain http, with room for a wrapper (fault injection) in between.
package storehttp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrForeignHost: a storage URL or request is not for the configured
// account endpoint.
var ErrForeignHost = errors.New("storage URL is not on the configured account endpoint")

// Doer sends one HTTP request: the SDK's transporter interface, and what a
// fault-injecting wrapper implements.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Config says where requests may go and how they are sent.
type Config struct {
	// Host is the endpoint's host:port as HostPort returns it; every
	// request must go there.
	Host string
	// AllowHTTP permits plain http besides https. Tests only.
	AllowHTTP bool
	// RootCAs, when set, replaces the system roots (emulator tests).
	RootCAs *x509.CertPool
	// Proxy selects a proxy per request; nil means no proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// DialTimeout bounds the TCP connect.
	DialTimeout time.Duration
	// Wrap, when set, wraps the client below the guard (fault injection).
	Wrap func(Doer) Doer
}

// NewTransport returns the Doer for the SDK pipeline: the guard, then the
// optional wrapper, then next (typically the client of NewClient).
func NewTransport(cfg Config, next Doer) Doer {
	if cfg.Wrap != nil {
		next = cfg.Wrap(next)
	}
	return &guard{host: cfg.Host, allowHTTP: cfg.AllowHTTP, next: next}
}

// NewClient returns a client that never follows redirects.
func NewClient(cfg Config) *http.Client {
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

// guard refuses any request that is not to the endpoint's host over an
// allowed scheme, or that carries user info.
type guard struct {
	host      string
	allowHTTP bool
	next      Doer
}

func (g *guard) Do(req *http.Request) (*http.Response, error) {
	okScheme := req.URL.Scheme == "https" || (g.allowHTTP && req.URL.Scheme == "http")
	if !okScheme || HostPort(req.URL) != g.host || req.URL.User != nil {
		return nil, fmt.Errorf("%w: request to %s://%s refused", ErrForeignHost, req.URL.Scheme, req.URL.Host)
	}
	return g.next.Do(req)
}

// HostPort returns the lower-case host of u with the port made explicit
// (443 for https, 80 for http).
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
