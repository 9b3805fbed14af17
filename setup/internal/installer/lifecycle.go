package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/system"
)

// Upgrade replaces the binaries and the service definitions of an
// installation with this installer's, keeps configuration, identity and
// state, and restarts the services.
func (in *Installer) Upgrade(ctx context.Context) error {
	m, err := in.loadManifest()
	if err != nil {
		return err
	}
	if err := in.cfg.Payload.Check(binaryNames()...); err != nil {
		return err
	}
	old := m.Release
	if m.Binaries, err = in.installBinaries(); err != nil {
		return err
	}
	acct, err := in.cfg.Platform.EnsureUser(ctx)
	if err != nil {
		return err
	}
	if err := in.rewriteUnits(ctx, acct); err != nil {
		return err
	}
	if err := in.saveManifest(m); err != nil {
		return err
	}
	if err := in.cfg.Platform.RestartServices(ctx, services); err != nil {
		return err
	}
	in.say("hvmigrate upgraded from %s to %s; configuration, identity and state kept", old, in.cfg.Release)
	return nil
}

// rewriteUnits replaces the service definitions, keeping configuration.
func (in *Installer) rewriteUnits(ctx context.Context, acct system.Account) error {
	svcs := []system.Service{{Name: layout.Agent}, {Name: layout.Provider}}
	inst, err := in.cfg.Platform.InstallServices(ctx, svcs, acct, false)
	if err != nil {
		return err
	}
	if len(inst.Kept) != len(svcs) {
		return fmt.Errorf("upgrade: configuration of %d services missing; run install", len(svcs)-len(inst.Kept))
	}
	return nil
}

// Uninstall stops and removes the services and binaries. Configuration,
// identity and state stay unless purge is set; the hub and the replicated
// data are never touched.
func (in *Installer) Uninstall(ctx context.Context, purge bool) error {
	m, err := in.loadManifest()
	if err != nil {
		return err
	}
	if err := in.cfg.Platform.RemoveServices(ctx, services); err != nil {
		return err
	}
	for _, b := range m.Binaries {
		if err := removeIfPresent(in.l.At(b.Path)); err != nil {
			return err
		}
	}
	if err := removeIfPresent(in.l.At(in.l.Manifest)); err != nil {
		return err
	}
	for _, d := range []string{in.l.BinDir, in.l.Base} {
		if err := os.Remove(in.l.At(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			in.say("left %s in place: %v", d, err)
		}
	}
	if !purge {
		in.say("hvmigrate removed; kept configuration in %s and identity and state in %s (remove them with --purge)", in.l.ConfigDir, in.l.StateDir)
		return nil
	}
	return in.purge(ctx, m.UserCreated)
}

// purge removes configuration, identity and state, and the service user
// when hvm-setup created it.
func (in *Installer) purge(ctx context.Context, userCreated bool) error {
	for _, d := range []string{in.l.ConfigDir, in.l.StateDir} {
		if err := os.RemoveAll(in.l.At(d)); err != nil {
			return fmt.Errorf("purge %s: %w", d, err)
		}
	}
	if userCreated {
		if err := in.cfg.Platform.RemoveUser(ctx); err != nil {
			return err
		}
	}
	in.say("hvmigrate removed with its configuration, identity and state; the hub still lists this host until it is revoked (hvmctl host revoke)")
	return nil
}

func removeIfPresent(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// Register registers the host with an installed provider (installed by
// hvm-setup or a package) and restarts the provider to pick it up.
func (in *Installer) Register(ctx context.Context, keyFile string) error {
	if _, err := os.Stat(in.l.At(in.l.Binary(layout.Provider))); err != nil {
		return fmt.Errorf("no installed provider: %w", err)
	}
	acct, err := in.cfg.Platform.EnsureUser(ctx)
	if err != nil {
		return err
	}
	if err := in.register(ctx, keyFile, acct); err != nil {
		return err
	}
	return in.cfg.Platform.RestartServices(ctx, []string{layout.Provider})
}
