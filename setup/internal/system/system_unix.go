//go:build !windows

package system

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"hvmigrate/setup/internal/config"
	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
)

// Units are the systemd units, identical to the ones the .deb ships.
//
//go:embed units/*.service
var Units embed.FS

// wantsDir is where `systemctl enable` links units WantedBy=multi-user.target.
const wantsDir = "multi-user.target.wants"

// nologin is the shell of the service account.
const nologin = "/usr/sbin/nologin"

// EnsureUser returns the service account, creating it as a system user
// with no login shell if missing. Offline it creates nothing and files keep
// the installer's ownership.
func (s *System) EnsureUser(ctx context.Context) (Account, error) {
	if !s.l.Live() {
		return Account{Name: layout.User, UID: -1, GID: -1}, nil
	}
	if a, err := s.lookupUser(ctx); err == nil {
		return a, nil
	}
	if _, err := s.run(ctx, "useradd", "--system", "--user-group", "--home-dir", s.l.StateDir, "--no-create-home",
		"--shell", nologin, "--comment", "hvmigrate services", layout.User); err != nil {
		return Account{}, fmt.Errorf("create user %s: %w", layout.User, err)
	}
	a, err := s.lookupUser(ctx)
	if err != nil {
		return Account{}, err
	}
	a.Created = true
	s.log.Info("created service user", "user", a.Name, "uid", a.UID)
	return a, nil
}

// lookupUser reads the account's passwd entry.
func (s *System) lookupUser(ctx context.Context) (Account, error) {
	out, err := s.run(ctx, "getent", "passwd", layout.User)
	if err != nil {
		return Account{}, fmt.Errorf("look up user %s: %w", layout.User, err)
	}
	f := strings.Split(strings.TrimSpace(out), ":")
	if len(f) < 7 || f[0] != layout.User {
		return Account{}, fmt.Errorf("look up user %s: unexpected passwd entry %q", layout.User, out)
	}
	uid, err1 := strconv.Atoi(f[2])
	gid, err2 := strconv.Atoi(f[3])
	if err := errors.Join(err1, err2); err != nil {
		return Account{}, fmt.Errorf("look up user %s: %w", layout.User, err)
	}
	return Account{Name: layout.User, UID: uid, GID: gid}, nil
}

// RemoveUser deletes the service account; offline it does nothing.
func (s *System) RemoveUser(ctx context.Context) error {
	if !s.l.Live() {
		return nil
	}
	if _, err := s.run(ctx, "userdel", layout.User); err != nil {
		return fmt.Errorf("remove user %s: %w", layout.User, err)
	}
	return nil
}

// Own gives path (written under the root) to the account, or to root:account
// when groupOnly is set; without a known account it does nothing.
func (s *System) Own(path string, a Account, groupOnly bool) error {
	if a.UID < 0 {
		return nil
	}
	uid := a.UID
	if groupOnly {
		uid = 0
	}
	if err := os.Lchown(path, uid, a.GID); err != nil {
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	return nil
}

// InstallServices writes each service's unit, and its environment file
// when missing or reconfigure is set (never for a Service without Args);
// environment files are root-owned, readable by the account's group, mode
// 0640.
func (s *System) InstallServices(_ context.Context, svcs []Service, a Account, reconfigure bool) (Installed, error) {
	var in Installed
	if err := os.MkdirAll(s.l.At(s.l.UnitDir), 0o755); err != nil {
		return in, fmt.Errorf("create unit directory: %w", err)
	}
	for _, svc := range svcs {
		unit, err := Units.ReadFile("units/" + svc.Name + ".service")
		if err != nil {
			return in, fmt.Errorf("unit of %s: %w", svc.Name, err)
		}
		path := filepath.Join(s.l.UnitDir, svc.Name+".service")
		if err := manifest.WriteAtomic(s.l.At(path), unit, 0o644); err != nil {
			return in, err
		}
		in.Files = append(in.Files, path)
		env := EnvFile(s.l, svc.Name)
		in.Config = append(in.Config, env)
		if _, err := os.Lstat(s.l.At(env)); err == nil && (!reconfigure || svc.Args == nil) {
			in.Kept = append(in.Kept, env)
			continue
		}
		if svc.Args == nil { // units only: configuration is someone else's
			continue
		}
		body := config.EnvFile(svc.Name, argsVar(svc.Name), config.Config{LogLevel: svc.LogLevel}, svc.Args)
		if err := manifest.WriteAtomic(s.l.At(env), body, 0o640); err != nil {
			return in, err
		}
		if err := s.Own(s.l.At(env), a, true); err != nil {
			return in, err
		}
	}
	return in, nil
}

// EnvFile is the live path of a service's environment file.
func EnvFile(l layout.Layout, service string) string {
	return filepath.Join(l.ConfigDir, service+".env")
}

// argsVar is the variable of a service's environment file that holds its
// command line, e.g. HVM_AGENT_ARGS.
func argsVar(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_")) + "_ARGS"
}

// EnableServices enables the services at boot and starts them; offline it
// makes the links `systemctl enable` would make.
func (s *System) EnableServices(ctx context.Context, names []string) error {
	if !s.l.Live() {
		wants := s.l.At(filepath.Join(s.l.UnitDir, wantsDir))
		if err := os.MkdirAll(wants, 0o755); err != nil {
			return fmt.Errorf("enable services: %w", err)
		}
		for _, n := range names {
			link := filepath.Join(wants, n+".service")
			if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("enable %s: %w", n, err)
			}
			if err := os.Symlink(filepath.Join(s.l.UnitDir, n+".service"), link); err != nil {
				return fmt.Errorf("enable %s: %w", n, err)
			}
		}
		return nil
	}
	if err := s.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	return s.systemctl(ctx, append([]string{"enable", "--now"}, units(names)...)...)
}

// RestartServices restarts the services after their binaries changed;
// offline there is nothing to restart.
func (s *System) RestartServices(ctx context.Context, names []string) error {
	if !s.l.Live() {
		return nil
	}
	if err := s.systemctl(ctx, "daemon-reload"); err != nil {
		return err
	}
	return s.systemctl(ctx, append([]string{"restart"}, units(names)...)...)
}

// RemoveServices stops and disables the services and deletes their units.
func (s *System) RemoveServices(ctx context.Context, names []string) error {
	if s.l.Live() {
		if err := s.systemctl(ctx, append([]string{"disable", "--now"}, units(names)...)...); err != nil {
			return err
		}
	}
	for _, n := range names {
		for _, p := range []string{filepath.Join(s.l.UnitDir, wantsDir, n+".service"), filepath.Join(s.l.UnitDir, n+".service")} {
			if err := os.Remove(s.l.At(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", p, err)
			}
		}
	}
	if s.l.Live() {
		return s.systemctl(ctx, "daemon-reload")
	}
	return nil
}

// ServiceState describes a service in a few words.
func (s *System) ServiceState(ctx context.Context, name string) string {
	if !s.l.Live() {
		if _, err := os.Lstat(s.l.At(filepath.Join(s.l.UnitDir, wantsDir, name+".service"))); err == nil {
			return "enabled (offline root)"
		}
		return "not enabled (offline root)"
	}
	active, _ := s.run(ctx, "systemctl", "is-active", name+".service")
	enabled, _ := s.run(ctx, "systemctl", "is-enabled", name+".service")
	return strings.TrimSpace(active) + ", " + strings.TrimSpace(enabled)
}

func (s *System) systemctl(ctx context.Context, args ...string) error {
	if _, err := s.run(ctx, "systemctl", args...); err != nil {
		return fmt.Errorf("systemctl %s: %w", args[0], err)
	}
	return nil
}

func units(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + ".service"
	}
	return out
}
