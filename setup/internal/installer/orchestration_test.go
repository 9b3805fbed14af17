//go:build !windows

package installer_test

import (
	"context"
	"reflect"
	"testing"

	"hvmigrate/setup/internal/config"
	"hvmigrate/setup/internal/installer"
	"hvmigrate/setup/internal/system"
)

// recorder is the offline System, recording the service manager and user
// calls a live one would turn into commands; its user counts as created.
type recorder struct {
	*system.System
	calls []string
}

func (r *recorder) EnsureUser(ctx context.Context) (system.Account, error) {
	r.calls = append(r.calls, "ensure-user")
	a, err := r.System.EnsureUser(ctx)
	a.Created = true
	return a, err
}

func (r *recorder) RemoveUser(context.Context) error {
	r.calls = append(r.calls, "remove-user")
	return nil
}

func (r *recorder) EnableServices(ctx context.Context, names []string) error {
	r.calls = append(r.calls, "enable")
	return r.System.EnableServices(ctx, names)
}

func (r *recorder) RestartServices(context.Context, []string) error {
	r.calls = append(r.calls, "restart")
	return nil
}

func (r *recorder) RemoveServices(ctx context.Context, names []string) error {
	r.calls = append(r.calls, "remove-services")
	return r.System.RemoveServices(ctx, names)
}

func TestInstaller_serviceLifecycle(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{System: system.New(system.Config{Layout: e.l})}
	in := installer.New(installer.Config{Layout: e.l, Payload: testPayload("a"), Platform: rec})
	ctx := context.Background()
	o := installer.InstallOptions{Config: config.Config{LogLevel: "info", Simhost: "/s.sock"}}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"first install", func() error { return in.Install(ctx, o) }, []string{"ensure-user", "enable"}},
		{"re-install restarts the replaced binaries", func() error { return in.Install(ctx, o) }, []string{"ensure-user", "enable", "restart"}},
		{"upgrade", func() error { return in.Upgrade(ctx) }, []string{"ensure-user", "restart"}},
		{"uninstall keeps the user", func() error { return in.Uninstall(ctx, false) }, []string{"remove-services"}},
		{"install again", func() error { return in.Install(ctx, o) }, []string{"ensure-user", "enable"}},
		{"purge removes the user it created", func() error { return in.Uninstall(ctx, true) }, []string{"remove-services", "remove-user"}},
	}
	for _, s := range steps {
		rec.calls = nil
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !reflect.DeepEqual(rec.calls, s.want) {
			t.Errorf("%s: calls %v, want %v", s.name, rec.calls, s.want)
		}
	}
}
