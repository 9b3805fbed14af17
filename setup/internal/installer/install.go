package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"hvmigrate/setup/internal/config"
	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
	"hvmigrate/setup/internal/system"
)

// InstallOptions are the operator's choices for install.
type InstallOptions struct {
	Config config.Config
	// StorageCAFile is a PEM bundle to copy into the configuration and
	// trust for storage; empty for the system's roots.
	StorageCAFile string
	// KeyFile is a registration key: register the host when it is not yet.
	KeyFile string
	// Reconfigure rewrites existing configuration from the options.
	Reconfigure bool
}

// storageCA is the file name of the copied storage CA bundle.
const storageCA = "storage-ca.pem"

// Install installs, or re-installs, the provider and the agent: a re-run
// replaces binaries and units but keeps configuration (unless Reconfigure),
// state and identity.
func (in *Installer) Install(ctx context.Context, o InstallOptions) error {
	if err := in.cfg.Payload.Check(binaryNames()...); err != nil {
		return err
	}
	if o.StorageCAFile != "" {
		o.Config.StorageCA = filepath.Join(in.l.ConfigDir, storageCA)
	}
	if err := o.Config.Validate(); err != nil {
		return err
	}
	m, first, err := in.existing()
	if err != nil {
		return err
	}
	acct, err := in.cfg.Platform.EnsureUser(ctx)
	if err != nil {
		return err
	}
	if first {
		m.UserCreated = acct.Created
	}
	if err := in.writeFiles(ctx, &m, o, acct); err != nil {
		return err
	}
	// The manifest goes first, so that uninstall can clean up whatever
	// registering or starting leaves.
	if err := in.saveManifest(m); err != nil {
		return err
	}
	if err := in.registerAndStart(ctx, o.KeyFile, acct, first); err != nil {
		return err
	}
	in.report(o, first)
	return nil
}

// existing returns the manifest of an earlier installation, or a new one
// and first set.
func (in *Installer) existing() (m manifest.Manifest, first bool, err error) {
	m, err = in.loadManifest()
	if errors.Is(err, manifest.ErrNotInstalled) {
		return manifest.Manifest{InstalledAt: in.cfg.Now().UTC()}, true, nil
	}
	return m, false, err
}

// writeFiles lays out directories, binaries, configuration and services,
// and records them in m.
func (in *Installer) writeFiles(ctx context.Context, m *manifest.Manifest, o InstallOptions, acct system.Account) error {
	var err error
	m.Offline, m.User = !in.l.Live(), layout.User
	if m.Dirs, err = in.makeDirs(acct); err != nil {
		return err
	}
	if m.Binaries, err = in.installBinaries(); err != nil {
		return err
	}
	if err := in.installServices(ctx, m, o, acct); err != nil {
		return err
	}
	if o.StorageCAFile != "" {
		m.Config = append(m.Config, o.Config.StorageCA)
		return in.copyConfigFile(o.StorageCAFile, o.Config.StorageCA, acct)
	}
	return nil
}

// registerAndStart registers the host when a key is given, enables and
// starts the services, and restarts them on a re-install, whose running
// services still run the replaced binaries.
func (in *Installer) registerAndStart(ctx context.Context, keyFile string, acct system.Account, first bool) error {
	if keyFile != "" {
		if err := in.register(ctx, keyFile, acct); err != nil {
			return err
		}
	}
	if err := in.cfg.Platform.EnableServices(ctx, services); err != nil {
		return err
	}
	if first {
		return nil
	}
	return in.cfg.Platform.RestartServices(ctx, services)
}

// installServices writes the services' definitions and configuration.
func (in *Installer) installServices(ctx context.Context, m *manifest.Manifest, o InstallOptions, acct system.Account) error {
	svcs := []system.Service{
		{Name: layout.Agent, Args: config.AgentArgs(in.l, o.Config), LogLevel: o.Config.LogLevel},
		{Name: layout.Provider, Args: config.ProviderArgs(in.l, o.Config), LogLevel: o.Config.LogLevel},
	}
	inst, err := in.cfg.Platform.InstallServices(ctx, svcs, acct, o.Reconfigure)
	if err != nil {
		return err
	}
	m.Services = []manifest.Service{{Name: layout.Agent}, {Name: layout.Provider}}
	for i := range m.Services {
		m.Services[i].Files = inst.Files[i : i+1]
	}
	m.Config = inst.Config
	for _, k := range inst.Kept {
		in.say("kept existing configuration %s (rewrite it with --reconfigure)", k)
	}
	return nil
}

// register registers the host with the installed provider unless an
// identity is already there, then gives the identity to the service user.
func (in *Installer) register(ctx context.Context, keyFile string, acct system.Account) error {
	if in.registered() {
		in.say("host already registered (%s); keeping its identity", in.l.IdentityDir)
		return nil
	}
	out, err := in.cfg.Run(ctx, in.l.At(in.l.Binary(layout.Provider)), "register", "--key", keyFile, "--dir", in.l.At(in.l.IdentityDir))
	if err != nil {
		return fmt.Errorf("register the host: %w", err)
	}
	fmt.Fprint(in.cfg.Out, out)
	return in.ownTree(in.l.At(in.l.IdentityDir), acct)
}

// registered reports whether the provider's certificate is in place.
func (in *Installer) registered() bool {
	_, err := os.Stat(in.l.At(filepath.Join(in.l.IdentityDir, "host-cert.pem")))
	return err == nil
}

// report tells the operator what the installation needs next.
func (in *Installer) report(o InstallOptions, first bool) {
	verb := "installed"
	if !first {
		verb = "re-installed"
	}
	where := "this system"
	if !in.l.Live() {
		where = in.l.Root + " (offline: no user created, no service started)"
	}
	in.say("hvmigrate %s %s under %s", in.cfg.Release, verb, where)
	if o.Config.Simhost == "" {
		in.say("warning: %v; re-run install with --reconfigure --simhost SOCKET", config.ErrNoBackend)
	}
	if !in.registered() {
		in.say("the provider starts once the host is registered: hvm-setup install --key FILE")
	}
}
