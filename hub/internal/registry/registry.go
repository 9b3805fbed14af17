// Package registry turns registration keys into host identities: it
// manages projects and keys, redeems a key for a certificate issued from a
// CSR, renews certificates, and revokes hosts, with a small cache of host
// status that the TLS layer consults on every connection. Failed
// registrations are rate-limited per client address and per key id (see
// Register and Limits).
package registry

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/ca"
	"hvmigrate/hub/internal/state"
)

// ErrInvalid means a request field is invalid; the message names it.
var ErrInvalid = errors.New("invalid argument")

// Config holds the registry's settings.
type Config struct {
	// Hub is the provider listener's public host:port written into key files.
	Hub string
	// CertLifetime is how long a host certificate is valid.
	CertLifetime time.Duration
	// MaxKeyValidity bounds how long a registration key may be valid.
	MaxKeyValidity time.Duration
	// StatusCacheTTL is how long a "not revoked" answer is trusted. A revoke
	// through this registry clears it at once; the TTL bounds staleness
	// when another process revokes in the same database.
	StatusCacheTTL time.Duration
	// Limits bound failed registrations per client address and key id.
	Limits Limits
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// DefaultConfig holds every default in one place.
func DefaultConfig(hub string) Config {
	return Config{
		Hub:            hub,
		CertLifetime:   24 * time.Hour,
		MaxKeyValidity: 30 * 24 * time.Hour,
		StatusCacheTTL: 30 * time.Second,
		Limits:         DefaultLimits(),
		Now:            time.Now,
	}
}

// Registry is safe for concurrent use.
type Registry struct {
	cfg   Config
	store *state.Store
	ca    *ca.CA
	log   hclog.Logger

	byAddress *failures
	byKey     *failures

	mu       sync.Mutex
	status   map[string]hostStatus
	onRevoke []func(hostID string)
}

type hostStatus struct {
	err     error // nil, or wraps state.ErrHostRevoked / state.ErrNotFound
	checked time.Time
}

// New returns a registry over store that issues from authority.
func New(cfg Config, store *state.Store, authority *ca.CA, log hclog.Logger) *Registry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Registry{cfg: cfg, store: store, ca: authority, log: log, status: map[string]hostStatus{},
		byAddress: newFailures(cfg.Limits.PerAddress, cfg.Limits.MaxTracked),
		byKey:     newFailures(cfg.Limits.PerKey, cfg.Limits.MaxTracked)}
}

// CA returns the certificate authority hosts are issued from.
func (r *Registry) CA() *ca.CA { return r.ca }

// OnRevoke registers fn to run after a host is revoked (the stream layer
// ends its live stream).
func (r *Registry) OnRevoke(fn func(hostID string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onRevoke = append(r.onRevoke, fn)
}

var projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// CreateProject creates a project named name ([a-z0-9-], up to 63).
func (r *Registry) CreateProject(ctx context.Context, name string) (state.Project, error) {
	if !projectName.MatchString(name) {
		return state.Project{}, fmt.Errorf("%w: project name %q: use 1-63 of a-z, 0-9 and '-', starting with a letter or digit", ErrInvalid, name)
	}
	p := state.Project{ID: uuid.NewString(), Name: name, CreatedAt: r.cfg.Now().UTC()}
	if err := r.store.CreateProject(ctx, p); err != nil {
		return state.Project{}, err
	}
	r.log.Info("project created", "project_id", p.ID, "project", name)
	return p, nil
}

// Projects lists every project.
func (r *Registry) Projects(ctx context.Context) ([]state.Project, error) {
	return r.store.Projects(ctx)
}

// Hosts lists the hosts of a project given by id or name (all when empty).
func (r *Registry) Hosts(ctx context.Context, projectRef string) ([]state.Host, error) {
	id, err := r.projectID(ctx, projectRef)
	if err != nil {
		return nil, err
	}
	return r.store.Hosts(ctx, id)
}

func (r *Registry) projectID(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", nil
	}
	p, err := r.store.FindProject(ctx, ref)
	return p.ID, err
}
