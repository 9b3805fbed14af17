// Package azure is the blob.Store backed by Azure Blob Storage. It talks to
// the service with the azblob SDK through a SAS URL (a container SAS, or a
// blob SAS for one blob) and does nothing else: retries beyond one try,
// throttling, logging and error redaction for callers are wrappers.
//
// The HTTP client is our own: HTTPS only, TLS 1.2 or later, redirects are
// never followed, and every request must go to the configured account
// endpoint's host. A SAS URL on another host is refused at New.
//
// Idempotent retries of CreatePageBlob and CommitBlocks need read permission
// in the SAS: on a 409/412 the Store reads the blob's properties or committed
// block list to tell its own earlier success from someone else's blob. With
// a SAS that cannot read, the conflict is returned as ErrExists.
//
// What the Azurite emulator (3.35.0) enforces, as recorded by this
// package's Azurite tests (which assert the observed behaviour, so an
// emulator upgrade that changes it fails them):
//   - transactional CRC-64: NOT verified. Put Page and Put Block with a wrong
//     x-ms-content-crc64 succeed and the bytes land (real Azure answers 400
//     Crc64Mismatch). Checksum cases of the conformance suite run on the
//     fake only.
//   - Put Page past the end of the blob: accepted (the blob keeps its size);
//     real Azure answers 416 InvalidPageRange.
//   - Put Block List with If-None-Match: * over an existing blob: refused
//     with 409 BlobAlreadyExists, the blob unchanged.
//   - SAS create vs write: a create-only SAS can Put Blob a new blob and
//     create a page blob, but is refused (403 AuthorizationPermissionMismatch)
//     when it overwrites an existing blob, for Put Block, for Put Page and
//     for Get Properties. So staged delta objects and page writes need the
//     write permission there; whether real Azure allows Put Block with
//     create only is not verified.
//   - Put Page with x-ms-if-sequence-number-le/lt/eq: enforced, 412
//     SequenceNumberConditionNotMet.
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
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"hvmigrate/agent/internal/blob"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/storeerr"
	"hvmigrate/shared/storehttp"
)

var _ blob.Store = (*Store)(nil)

// Sentinel errors of New and the transport.
var (
	// ErrForeignHost: a SAS URL or request is not for the configured endpoint.
	ErrForeignHost = storehttp.ErrForeignHost
	// ErrBadSAS: the SAS URL is malformed or has no signature.
	ErrBadSAS = errors.New("malformed SAS URL")
)

// Config configures a Store.
type Config struct {
	// Endpoint is the account's blob endpoint, e.g.
	// https://account.blob.core.windows.net, or a path-style emulator
	// endpoint https://127.0.0.1:10000/devstoreaccount1.
	Endpoint string
	// SAS is the container or blob URL with its SAS query.
	SAS secret.String
	// RootCAs, when set, replaces the system roots (emulator tests).
	RootCAs *x509.CertPool
	// Proxy selects a proxy per request; nil means no proxy.
	Proxy func(*http.Request) (*url.URL, error)
	// TryTimeout bounds one HTTP try. Size it for a 4 MiB body at the
	// lowest bandwidth the host may be throttled to (4 MiB at 512 Kbps is
	// about 66 s), since the throttled body is read inside the try.
	TryTimeout time.Duration
	// MaxRetries is the SDK's own retry count; negative disables it so that
	// the outer retry wrapper, which classifies errors and honours long
	// Retry-After values, is the only loop.
	MaxRetries int32
	// DialTimeout bounds the TCP connect.
	DialTimeout time.Duration
	// WrapTransport, when set, wraps the HTTP transport (fault injection).
	WrapTransport func(Doer) Doer
}

// DefaultConfig returns the defaults; Endpoint and SAS must still be set.
func DefaultConfig() Config {
	return Config{
		Proxy:       http.ProxyFromEnvironment,
		TryTimeout:  3 * time.Minute,
		MaxRetries:  -1,
		DialTimeout: 30 * time.Second,
	}
}

// Doer sends one HTTP request: the SDK's transporter interface, and what a
// fault-injecting wrapper implements.
type Doer = storehttp.Doer

// Store is a blob.Store on one container (or one blob) reached through a SAS.
type Store struct {
	container *container.Client
	onlyBlob  string // set for a blob SAS: the one name this Store accepts
}

// New checks the SAS URL against the endpoint and builds the SDK client.
func New(cfg Config) (*Store, error) {
	target, err := parseSAS(cfg.Endpoint, cfg.SAS.Reveal())
	if err != nil {
		return nil, err
	}
	tc := storehttp.Config{Host: target.host, RootCAs: cfg.RootCAs, Proxy: cfg.Proxy,
		DialTimeout: cfg.DialTimeout, Wrap: cfg.WrapTransport}
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: storehttp.NewTransport(tc, storehttp.NewClient(tc)),
		Retry: policy.RetryOptions{
			MaxRetries: cfg.MaxRetries,
			TryTimeout: cfg.TryTimeout,
		},
		Logging: policy.LogOptions{IncludeBody: false},
	}}
	c, err := container.NewClientWithNoCredential(target.containerURL, opts)
	if err != nil {
		return nil, fmt.Errorf("azure container client: %w", ErrBadSAS)
	}
	return &Store{container: c, onlyBlob: target.blob}, nil
}

// sasTarget is a checked SAS URL split into what the Store needs.
type sasTarget struct {
	host         string // host:port, lower case
	containerURL string // container URL with the SAS query
	blob         string // blob name for a blob SAS, else ""
}

// parseSAS checks that sasURL is an https URL on the endpoint's host, under
// its path, with a signature, and splits it.
func parseSAS(endpoint, sasURL string) (sasTarget, error) {
	ep, err := url.Parse(endpoint)
	if err != nil || ep.Scheme != "https" || ep.Host == "" || ep.User != nil || ep.RawQuery != "" {
		return sasTarget{}, fmt.Errorf("endpoint %q must be an https URL without query", endpoint)
	}
	u, err := url.Parse(sasURL)
	if err != nil {
		return sasTarget{}, fmt.Errorf("%w: does not parse", ErrBadSAS)
	}
	if u.Scheme != "https" || u.User != nil || u.Fragment != "" {
		return sasTarget{}, fmt.Errorf("%w: must be https without user info", ErrBadSAS)
	}
	if storehttp.HostPort(u) != storehttp.HostPort(ep) {
		return sasTarget{}, fmt.Errorf("%w: SAS host %s, endpoint %s", ErrForeignHost, u.Host, ep.Host)
	}
	prefix := strings.TrimSuffix(ep.Path, "/") + "/"
	rest, ok := strings.CutPrefix(u.Path, prefix)
	if !ok || rest == "" {
		return sasTarget{}, fmt.Errorf("%w: path is not under the endpoint's account", ErrForeignHost)
	}
	if !u.Query().Has("sig") {
		return sasTarget{}, fmt.Errorf("%w: no signature", ErrBadSAS)
	}
	ctr, blobName, _ := strings.Cut(rest, "/")
	c := *u
	c.Path, c.RawPath = prefix+ctr, ""
	return sasTarget{host: storehttp.HostPort(ep), containerURL: c.String(), blob: blobName}, nil
}

// checkName refuses names a blob SAS does not cover.
func (s *Store) checkName(op, name string) error {
	if err := blob.CheckName(op, name); err != nil {
		return err
	}
	if s.onlyBlob != "" && name != s.onlyBlob {
		return &storeerr.Error{Op: op, Name: name, Class: storeerr.ErrDenied, Err: errors.New("the SAS covers another blob")}
	}
	return nil
}
