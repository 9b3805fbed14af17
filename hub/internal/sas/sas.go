// Package sas issues the shared access signatures a host uses to upload one
// VM's data: blob-scoped, HTTPS only, expiring, and never with read, list or
// delete permission. The hub holds the account key; a host only ever sees
// the URLs this package signs, each naming exactly one blob.
//
// Two kinds of grant exist:
//
//   - Replica: write ("w") on one replica page blob, issued only while the
//     disk's initial copy or a resync runs. Once the copy is done the hub
//     stops issuing it and the last one expires.
//   - Cycle: create and write ("cw") on one delta object name,
//     vm/<vm>/disk/<disk>/cycle/<n>.delta. Create alone ("c") lets a host
//     upload a new block blob (Put Block, Put Block List) and refuses to
//     overwrite a committed one, on real Azure and on the Azurite emulator
//     (3.35.0, pinned by this package's tests). The default keeps "w" so
//     that a host retrying an upload whose commit had an unknown outcome
//     can write the same object again; CycleWithoutWrite issues "c" alone
//     and makes committed objects write-once.
//
// The signatures are service SAS signed with the account key. Revoking one
// before it expires needs a stored access policy or a user-delegation key;
// the short lifetime (1 to 4 hours, renewed by RefreshSas commands) bounds
// the exposure instead.
package sas

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	azsas "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"hvmigrate/shared/secret"
)

// Purposes of a grant, as carried in the SasGrant message.
const (
	PurposeReplica = "replica"
	PurposeCycle   = "cycle"
)

// Lifetime bounds of a grant.
const (
	MinLifetime = time.Hour
	MaxLifetime = 4 * time.Hour
)

// Errors of the issuer.
var (
	// ErrConfig: the issuer's configuration is unusable.
	ErrConfig = errors.New("sas: invalid configuration")
	// ErrName: a container or blob name is not one the hub builds.
	ErrName = errors.New("sas: invalid blob name")
)

// Clock tells the time.
type Clock func() time.Time

// Config configures an Issuer.
type Config struct {
	// Endpoint is the account's blob endpoint (https only).
	Endpoint string
	// Account is the storage account name.
	Account string
	// Key is the account key.
	Key secret.String
	// Lifetime is how long a grant stays valid, MinLifetime..MaxLifetime.
	Lifetime time.Duration
	// CycleWithoutWrite issues "c" instead of "cw" for cycle objects, for
	// accounts that accept block uploads under create alone.
	CycleWithoutWrite bool
	// Now is the clock; nil means time.Now.
	Now Clock
}

// DefaultConfig returns the defaults; Endpoint, Account and Key must be set.
func DefaultConfig() Config {
	return Config{Lifetime: 2 * time.Hour, Now: time.Now}
}

// Grant is one signed URL for one blob.
type Grant struct {
	Container   string
	Blob        string
	Purpose     string
	Permissions string
	URL         secret.String
	ExpiresAt   time.Time
}

// Issuer signs grants.
type Issuer struct {
	cfg  Config
	cred *azsas.SharedKeyCredential
}

// New checks cfg and returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Lifetime < MinLifetime || cfg.Lifetime > MaxLifetime {
		return nil, fmt.Errorf("%w: lifetime %s outside %s..%s", ErrConfig, cfg.Lifetime, MinLifetime, MaxLifetime)
	}
	ep, err := url.Parse(cfg.Endpoint)
	if err != nil || ep.Scheme != "https" || ep.Host == "" || ep.RawQuery != "" || ep.User != nil {
		return nil, fmt.Errorf("%w: endpoint must be an https URL without user or query", ErrConfig)
	}
	cred, err := service.NewSharedKeyCredential(cfg.Account, cfg.Key.Reveal())
	if err != nil {
		return nil, fmt.Errorf("%w: malformed account name or key", ErrConfig) // never echo the key
	}
	cfg.Endpoint = strings.TrimSuffix(cfg.Endpoint, "/")
	return &Issuer{cfg: cfg, cred: cred}, nil
}

// Replica returns a write grant on one replica page blob, for its initial
// copy or a resync.
func (i *Issuer) Replica(container, blob string) (Grant, error) {
	return i.sign(container, blob, PurposeReplica, azsas.BlobPermissions{Write: true})
}

// Cycle returns a create(+write) grant on one delta object.
func (i *Issuer) Cycle(container, blob string) (Grant, error) {
	return i.sign(container, blob, PurposeCycle, azsas.BlobPermissions{Create: true, Write: !i.cfg.CycleWithoutWrite})
}

// sign signs a blob-scoped, HTTPS-only SAS expiring after the lifetime.
// The start time is left out so that a host whose clock runs behind can
// use the grant at once.
func (i *Issuer) sign(container, blob, purpose string, perms azsas.BlobPermissions) (Grant, error) {
	if err := checkName(container, blob); err != nil {
		return Grant{}, err
	}
	exp := i.cfg.Now().Add(i.cfg.Lifetime).UTC().Truncate(time.Second)
	v := azsas.BlobSignatureValues{
		Protocol:      azsas.ProtocolHTTPS,
		ExpiryTime:    exp,
		Permissions:   perms.String(),
		ContainerName: container,
		BlobName:      blob,
	}
	qp, err := v.SignWithSharedKey(i.cred)
	if err != nil {
		return Grant{}, fmt.Errorf("sign sas for %s/%s: %w", container, blob, err)
	}
	u := i.cfg.Endpoint + "/" + container + "/" + (&url.URL{Path: blob}).EscapedPath() + "?" + qp.Encode()
	return Grant{Container: container, Blob: blob, Purpose: purpose, Permissions: v.Permissions,
		URL: secret.New(u), ExpiresAt: exp}, nil
}

// checkName accepts only the names the hub builds: a container of
// [a-z0-9-] and a blob path of [a-z0-9.-] segments, none empty or dots.
func checkName(container, blob string) error {
	if len(container) < 3 || len(container) > 63 || !allOf(container, "-") {
		return fmt.Errorf("%w: container %q", ErrName, container)
	}
	if blob == "" || len(blob) > 1024 {
		return fmt.Errorf("%w: blob %q", ErrName, blob)
	}
	for _, seg := range strings.Split(blob, "/") {
		if seg == "" || seg == "." || seg == ".." || !allOf(seg, "-.") {
			return fmt.Errorf("%w: blob %q", ErrName, blob)
		}
	}
	return nil
}

// allOf reports whether s holds only a-z, 0-9 and the extra characters.
func allOf(s, extra string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}
