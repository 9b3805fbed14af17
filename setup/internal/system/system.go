// Package system is the part of installing that talks to the operating
// system: the service account, file ownership, and the service manager
// (systemd on Linux, the service control manager on Windows). With a
// layout under a root directory it touches only files under that root.
package system

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/setup/internal/layout"
)

// Runner runs a command and returns its combined output.
type Runner func(ctx context.Context, name string, args ...string) (string, error)

// Exec runs a command on this machine.
func Exec(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// Config is how a System works.
type Config struct {
	Layout layout.Layout
	Run    Runner
	Log    hclog.Logger
}

// System carries out the OS side of an installation.
type System struct {
	l   layout.Layout
	run Runner
	log hclog.Logger
}

// New returns the System of cfg; a nil Run means Exec.
func New(cfg Config) *System {
	if cfg.Run == nil {
		cfg.Run = Exec
	}
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	return &System{l: cfg.Layout, run: cfg.Run, log: cfg.Log}
}

// Account is the account the services run as. UID and GID are -1 when files
// keep the installer's ownership (offline, or an OS without them).
type Account struct {
	Name     string
	UID, GID int
	// Created is true when this call created the account.
	Created bool
}

// Service is one service to install.
type Service struct {
	Name     string   // layout.Agent or layout.Provider
	Args     []string // the command line after the binary
	LogLevel string
}

// Installed lists what InstallServices wrote.
type Installed struct {
	// Files define the services (units); they are replaced on every run.
	Files []string
	// Config holds the services' settings; Kept those left as they were.
	Config []string
	Kept   []string
}
