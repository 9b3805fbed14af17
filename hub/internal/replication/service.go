// Package replication is the hub's operations: it enables and disables the
// replication of VMs, issues the SAS grants hosts upload with, turns the
// events hosts report into state (copy progress, health) and applies each
// reported cycle through the applier, then takes a recovery point and
// prunes old ones. Status reports all of it for hvmctl.
//
// Cycles are applied by one worker per VM, outside the provider stream:
// HandleEvent stores a manifest durably and wakes the worker, so a slow
// apply never delays heartbeats, and a hub restart finds the stored
// manifests again (Run wakes every VM). A cycle is applied only when it is
// the next one (applied+1), the initial copy has finished, and every disk's
// object is present and valid; otherwise the VM is held and its health says
// why.
//
// The replica's VHD footer: the hub writes it when it creates the replica
// page blobs at enable, because the hub owns the replica layout; an agent
// that writes the same footer again writes identical bytes.
package replication

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/applier"
	"hvmigrate/hub/internal/sas"
	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/storage"
	"hvmigrate/hub/internal/stream"
)

// Errors of the service.
var (
	// ErrInvalid: a request is malformed (bad id, policy out of range).
	ErrInvalid = errors.New("invalid replication request")
	// ErrState: the VM is not in a state that allows the request.
	ErrState = errors.New("vm is not in a state that allows this")
)

// Streams queues commands for hosts.
type Streams interface {
	Enqueue(ctx context.Context, hostID string, c stream.Command) (stream.Command, error)
}

// Issuer signs SAS grants.
type Issuer interface {
	Replica(container, blob string) (sas.Grant, error)
	Cycle(container, blob string) (sas.Grant, error)
}

// Containers creates containers and deletes blobs.
type Containers interface {
	Ensure(ctx context.Context, name string) error
	Delete(ctx context.Context, container, blob string) error
}

// Config tunes a Service.
type Config struct {
	// Endpoint is the storage account's blob endpoint, for the blob URLs
	// of VM definitions and templates.
	Endpoint string
	// CycleWindow is how many cycles ahead grants are issued.
	CycleWindow uint64
	// RenewBefore renews grants this long before they expire.
	RenewBefore time.Duration
	// Tick is how often Run retries held VMs and renews grants.
	Tick time.Duration
	// Applier configures the applier (spool directory, parallelism).
	Applier applier.Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StepHook, when set, runs after each migration step's work and
	// before the step is recorded; an error abandons the operation there
	// (crash tests).
	StepHook func(vmID, step string) error
	// Logger receives logs; nil discards them.
	Logger hclog.Logger
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{CycleWindow: 16, RenewBefore: 45 * time.Minute, Tick: 30 * time.Second,
		Applier: applier.DefaultConfig(), Now: time.Now}
}

// Service runs the hub's replication operations.
type Service struct {
	cfg     Config
	log     hclog.Logger
	store   *state.Store
	blobs   storage.Store
	ctrs    Containers
	issuer  Issuer
	streams Streams
	apply   *applier.Applier
	layout  Layout

	mu      sync.Mutex
	base    context.Context // set by Run
	running map[string]bool // VM workers running
	again   map[string]bool // VM workers asked to run once more
	owed    map[string]bool // VMs whose recorded grants were not queued to the host
	wg      sync.WaitGroup
	changed chan struct{} // closed and replaced on every change (status watchers)
}

// New returns a Service. Streams may be attached later with SetStreams
// (the stream server needs the service as its event handler first).
func New(cfg Config, st *state.Store, blobs storage.Store, ctrs Containers, issuer Issuer, log hclog.Logger) *Service {
	d := DefaultConfig()
	if cfg.CycleWindow == 0 {
		cfg.CycleWindow = d.CycleWindow
	}
	if cfg.RenewBefore <= 0 {
		cfg.RenewBefore = d.RenewBefore
	}
	if cfg.Tick <= 0 {
		cfg.Tick = d.Tick
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.Named("replication")
	cfg.Applier.Logger = log
	return &Service{cfg: cfg, log: log, store: st, blobs: blobs, ctrs: ctrs, issuer: issuer,
		apply: applier.New(blobs, cfg.Applier), running: map[string]bool{}, again: map[string]bool{}, owed: map[string]bool{},
		changed: make(chan struct{})}
}

// SetStreams attaches the command queue.
func (s *Service) SetStreams(st Streams) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.streams = st
}

func (s *Service) enqueue(ctx context.Context, hostID string, c stream.Command) error {
	s.mu.Lock()
	st := s.streams
	s.mu.Unlock()
	if st == nil {
		return errors.New("no provider stream attached")
	}
	_, err := st.Enqueue(ctx, hostID, c)
	return err
}

// Changed returns a channel closed at the next change of any VM's state.
func (s *Service) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// notify wakes status watchers.
func (s *Service) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}
