// Package azure is the hub's storage.Store on Azure Blob Storage, built on
// the azblob SDK. It holds the account credential (a shared key today; the
// Credential type leaves room for a SAS or an Entra token) and talks to the
// service through its own HTTP client: HTTPS only unless a test asks
// otherwise, TLS 1.2 or later, redirects never followed, and every request
// pinned to the configured endpoint's host. The SDK's own retries are off;
// the retry wrapper (storage/retry) is the one loop, because it classifies
// errors and honours long Retry-After values.
//
// What the Azurite emulator (3.35.0) enforces, as this package's
// conformance run against it records (the suite asserts these, so an
// emulator that changes fails it):
//   - Put Page and Clear Pages with x-ms-if-sequence-number-le: enforced,
//     412 SequenceNumberConditionNotMet.
//   - Set sequence number with the "max" action: never lowers the number.
//   - transactional CRC-64 on Put Page: NOT verified (real Azure answers
//     400 Crc64Mismatch); the checksum case runs on the fake only.
//   - Put Page past the end of the blob: accepted (real Azure: 416); the
//     range case runs on the fake only.
//   - Get Page Ranges: maxresults ignored, the whole listing comes in one
//     answer; PageRanges limits the ranges itself, and its continuation
//     handling is tested against a stub server.
package azure

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/storehttp"
)

var _ storage.Store = (*Store)(nil)

// ErrForeignHost means a request was not for the configured endpoint.
var ErrForeignHost = storehttp.ErrForeignHost

// Doer sends one HTTP request: the SDK's transporter interface, and what a
// fault-injecting wrapper implements.
type Doer = storehttp.Doer

// Credential authorises requests. SharedKey is the only kind so far.
type Credential interface {
	client(endpoint string, opts *service.ClientOptions) (*service.Client, error)
}

// SharedKey returns the account-key credential.
func SharedKey(account string, key secret.String) Credential {
	return sharedKey{account: account, key: key}
}

type sharedKey struct {
	account string
	key     secret.String
}

func (k sharedKey) client(endpoint string, opts *service.ClientOptions) (*service.Client, error) {
	cred, err := service.NewSharedKeyCredential(k.account, k.key.Reveal())
	if err != nil {
		return nil, errors.New("shared key credential: malformed account key") // never echo the key
	}
	return service.NewClientWithSharedKeyCredential(endpoint+"/", cred, opts)
}

// Config configures a Store.
type Config struct {
	// Endpoint is the account's blob endpoint, e.g.
	// https://account.blob.core.windows.net, or the path-style emulator
	// endpoint https://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	// Credential authorises requests.
	Credential Credential
	// RootCAs, when set, replaces the system roots (emulator tests).
	RootCAs *x509.CertPool
	// AllowHTTP permits a plain-HTTP endpoint. Tests only.
	AllowHTTP bool
	// Proxy selects a proxy per request; nil means no proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// TryTimeout bounds one HTTP try (a 4 MiB body included).
	TryTimeout time.Duration
	// DialTimeout bounds the TCP connect.
	DialTimeout time.Duration
	// CopyPoll is the wait between polls of a pending copy.
	CopyPoll time.Duration
	// WrapTransport, when set, wraps the HTTP transport (fault injection).
	WrapTransport func(Doer) Doer
}

// DefaultConfig returns the defaults; Endpoint and Credential must be set.
func DefaultConfig() Config {
	return Config{
		TryTimeout:  2 * time.Minute,
		DialTimeout: 30 * time.Second,
		CopyPoll:    2 * time.Second,
	}
}

// Store is a storage.Store on one storage account.
type Store struct {
	svc      *service.Client
	http     *http.Client
	copyPoll time.Duration
}

// New checks the endpoint and builds the SDK client.
func New(cfg Config) (*Store, error) {
	host, err := checkEndpoint(cfg.Endpoint, cfg.AllowHTTP)
	if err != nil {
		return nil, err
	}
	if cfg.Credential == nil {
		return nil, errors.New("azure storage: no credential")
	}
	tc := storehttp.Config{Host: host, AllowHTTP: cfg.AllowHTTP, RootCAs: cfg.RootCAs, Proxy: cfg.Proxy,
		DialTimeout: cfg.DialTimeout, Wrap: cfg.WrapTransport}
	hc := storehttp.NewClient(tc)
	opts := &service.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: storehttp.NewTransport(tc, hc),
		Retry:     policy.RetryOptions{MaxRetries: -1, TryTimeout: cfg.TryTimeout},
		Logging:   policy.LogOptions{IncludeBody: false},
	}}
	svc, err := cfg.Credential.client(strings.TrimSuffix(cfg.Endpoint, "/"), opts)
	if err != nil {
		return nil, fmt.Errorf("azure storage client: %w", err)
	}
	poll := cfg.CopyPoll
	if poll <= 0 {
		poll = DefaultConfig().CopyPoll
	}
	return &Store{svc: svc, http: hc, copyPoll: poll}, nil
}

// Close drops idle connections. The Store must not be used afterwards.
func (s *Store) Close() error {
	s.http.CloseIdleConnections()
	return nil
}

// checkEndpoint returns the endpoint's host:port after checking its form.
func checkEndpoint(endpoint string, allowHTTP bool) (string, error) {
	ep, err := url.Parse(endpoint)
	if err != nil || ep.Host == "" || ep.User != nil || ep.RawQuery != "" || ep.Fragment != "" {
		return "", fmt.Errorf("azure storage: endpoint %q must be a URL without user, query or fragment", storeerr.Redact(endpoint))
	}
	if ep.Scheme != "https" && !(allowHTTP && ep.Scheme == "http") {
		return "", fmt.Errorf("azure storage: endpoint %q must be https", ep.Host)
	}
	return storehttp.HostPort(ep), nil
}
