package system

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"

	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
)

// localSystem is the account both services run as: the agent's named pipe
// admits only SYSTEM and Administrators.
const localSystem = "LocalSystem"

// EnsureUser returns LocalSystem, which always exists.
func (s *System) EnsureUser(context.Context) (Account, error) {
	return Account{Name: localSystem, UID: -1, GID: -1}, nil
}

// RemoveUser does nothing: no account was created.
func (s *System) RemoveUser(context.Context) error { return nil }

// Own does nothing: files under Program Files and ProgramData inherit
// their directories' ACLs.
func (s *System) Own(string, Account, bool) error { return nil }

// InstallServices creates each service in the service control manager, or
// updates its command line when reconfigure is set; an existing service is
// otherwise kept. Offline it writes each command line to NAME.cmdline in
// the configuration directory instead.
func (s *System) InstallServices(_ context.Context, svcs []Service, _ Account, reconfigure bool) (Installed, error) {
	if !s.l.Live() {
		return s.writeCmdlines(svcs, reconfigure)
	}
	m, err := mgr.Connect()
	if err != nil {
		return Installed{}, fmt.Errorf("connect to the service control manager: %w", err)
	}
	defer m.Disconnect()
	var in Installed
	for _, svc := range svcs {
		kept, err := s.installService(m, svc, reconfigure)
		if err != nil {
			return in, err
		}
		if kept {
			in.Kept = append(in.Kept, "service "+svc.Name)
		}
	}
	return in, nil
}

func (s *System) installService(m *mgr.Mgr, svc Service, reconfigure bool) (kept bool, err error) {
	exe := s.l.Binary(svc.Name)
	if h, err := m.OpenService(svc.Name); err == nil {
		defer h.Close()
		if !reconfigure || svc.Args == nil {
			return true, nil
		}
		c, err := h.Config()
		if err != nil {
			return false, fmt.Errorf("read service %s: %w", svc.Name, err)
		}
		c.BinaryPathName = commandLine(exe, svc.Args)
		if err := h.UpdateConfig(c); err != nil {
			return false, fmt.Errorf("update service %s: %w", svc.Name, err)
		}
		return false, nil
	}
	if svc.Args == nil {
		return false, nil
	}
	h, err := m.CreateService(svc.Name, exe, mgr.Config{
		DisplayName: "hvmigrate " + strings.TrimPrefix(svc.Name, "hvm-"),
		Description: "hvmigrate replication " + strings.TrimPrefix(svc.Name, "hvm-"),
		StartType:   mgr.StartAutomatic,
	}, svc.Args...)
	if err != nil {
		return false, fmt.Errorf("create service %s: %w", svc.Name, err)
	}
	defer h.Close()
	restart := []mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: 5 * time.Second}, {Type: mgr.ServiceRestart, Delay: 30 * time.Second}}
	if err := h.SetRecoveryActions(restart, 24*60*60); err != nil {
		return false, fmt.Errorf("set recovery of service %s: %w", svc.Name, err)
	}
	s.log.Info("created service", "service", svc.Name)
	return false, nil
}

// commandLine quotes the binary and joins the arguments as the service
// control manager stores them; arguments hold no spaces or quotes.
func commandLine(exe string, args []string) string {
	return `"` + exe + `" ` + strings.Join(args, " ")
}

func (s *System) writeCmdlines(svcs []Service, reconfigure bool) (Installed, error) {
	var in Installed
	for _, svc := range svcs {
		p := filepath.Join(s.l.ConfigDir, svc.Name+".cmdline")
		in.Config = append(in.Config, p)
		if _, err := os.Stat(s.l.At(p)); err == nil && (!reconfigure || svc.Args == nil) {
			in.Kept = append(in.Kept, p)
			continue
		}
		if svc.Args == nil {
			continue
		}
		if err := manifest.WriteAtomic(s.l.At(p), []byte(commandLine(s.l.Binary(svc.Name), svc.Args)+"\r\n"), 0o644); err != nil {
			return in, err
		}
	}
	return in, nil
}

// EnableServices starts the services (they start at boot already); the
// provider only once the host is registered.
func (s *System) EnableServices(_ context.Context, names []string) error {
	if !s.l.Live() {
		return nil
	}
	return s.each(names, func(name string, h *mgr.Service) error {
		if name == layout.Provider && !s.registered() {
			return nil
		}
		if err := h.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
			return fmt.Errorf("start service %s: %w", name, err)
		}
		return nil
	})
}

// RestartServices stops and starts the services.
func (s *System) RestartServices(ctx context.Context, names []string) error {
	if !s.l.Live() {
		return nil
	}
	if err := s.each(names, stop); err != nil {
		return err
	}
	return s.EnableServices(ctx, names)
}

// RemoveServices stops the services and deletes them.
func (s *System) RemoveServices(_ context.Context, names []string) error {
	if !s.l.Live() {
		return nil
	}
	return s.each(names, func(name string, h *mgr.Service) error {
		if err := stop(name, h); err != nil {
			return err
		}
		if err := h.Delete(); err != nil {
			return fmt.Errorf("delete service %s: %w", name, err)
		}
		return nil
	})
}

// ServiceState describes a service in a few words.
func (s *System) ServiceState(_ context.Context, name string) string {
	if !s.l.Live() {
		return "offline root"
	}
	state := "not installed"
	_ = s.each([]string{name}, func(_ string, h *mgr.Service) error {
		st, err := h.Query()
		if err != nil {
			state = "unknown: " + err.Error()
			return nil
		}
		state = stateName(st.State)
		return nil
	})
	return state
}

func stateName(st svc.State) string {
	switch st {
	case svc.Running:
		return "running"
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	}
	return fmt.Sprintf("state %d", st)
}

// each opens every named service that exists and calls fn with it.
func (s *System) each(names []string, fn func(string, *mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service control manager: %w", err)
	}
	defer m.Disconnect()
	for _, n := range names {
		h, err := m.OpenService(n)
		if err != nil {
			continue
		}
		err = fn(n, h)
		h.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// stop asks a service to stop and waits up to a minute for it.
func stop(name string, h *mgr.Service) error {
	st, err := h.Control(svc.Stop)
	if err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop service %s: %w", name, err)
	}
	for deadline := time.Now().Add(time.Minute); st.State != svc.Stopped; {
		if time.Now().After(deadline) {
			return fmt.Errorf("stop service %s: still %s after a minute", name, stateName(st.State))
		}
		time.Sleep(300 * time.Millisecond)
		if st, err = h.Query(); err != nil {
			return fmt.Errorf("stop service %s: %w", name, err)
		}
	}
	return nil
}

func (s *System) registered() bool {
	_, err := os.Stat(filepath.Join(s.l.IdentityDir, "host-cert.pem"))
	return err == nil
}
