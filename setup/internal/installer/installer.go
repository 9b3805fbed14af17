// Package installer installs, upgrades, removes and reports an hvmigrate
// host installation: the provider and agent binaries, their configuration
// and state directories, their services, and the host's registration.
package installer

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
	"hvmigrate/setup/internal/payload"
	"hvmigrate/setup/internal/system"
)

// Platform is the OS side of an installation (system.System).
type Platform interface {
	EnsureUser(ctx context.Context) (system.Account, error)
	RemoveUser(ctx context.Context) error
	Own(path string, a system.Account, groupOnly bool) error
	InstallServices(ctx context.Context, svcs []system.Service, a system.Account, reconfigure bool) (system.Installed, error)
	EnableServices(ctx context.Context, names []string) error
	RestartServices(ctx context.Context, names []string) error
	RemoveServices(ctx context.Context, names []string) error
	ServiceState(ctx context.Context, name string) string
}

var _ Platform = (*system.System)(nil)

// Config is what an Installer works with.
type Config struct {
	Layout   layout.Layout
	Payload  payload.Payload
	Platform Platform
	// Run runs the installed provider to register the host.
	Run system.Runner
	Log hclog.Logger
	// Out receives what the operator reads.
	Out     io.Writer
	Release string
	Now     func() time.Time
}

// Installer carries out hvm-setup's commands.
type Installer struct {
	cfg Config
	l   layout.Layout
}

// New returns an Installer for cfg.
func New(cfg Config) *Installer {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Run == nil {
		cfg.Run = system.Exec
	}
	return &Installer{cfg: cfg, l: cfg.Layout}
}

// services are installed in this order; the provider depends on the agent.
var services = []string{layout.Agent, layout.Provider}

// say prints a line for the operator.
func (in *Installer) say(format string, args ...any) {
	fmt.Fprintf(in.cfg.Out, format+"\n", args...)
}

// loadManifest reads this layout's manifest.
func (in *Installer) loadManifest() (manifest.Manifest, error) {
	return manifest.Load(in.l.At(in.l.Manifest))
}
