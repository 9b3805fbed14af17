//go:build !windows

package system_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/system"
)

// fakeRunner records every command and answers getent from its users.
type fakeRunner struct {
	calls []string
	users map[string]string // name -> passwd entry
}

func (f *fakeRunner) run(_ context.Context, name string, args ...string) (string, error) {
	call := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, call)
	switch name {
	case "getent":
		if e, ok := f.users[args[1]]; ok {
			return e + "\n", nil
		}
		return "", errors.New("exit status 2")
	case "useradd":
		f.users[args[len(args)-1]] = fmt.Sprintf("%s:x:997:996:hvmigrate services:/var/lib/hvmigrate:/usr/sbin/nologin", args[len(args)-1])
	}
	return "", nil
}

// live is a System for the running system whose commands go to f. The
// tests call only what runs commands and writes no file.
func live(f *fakeRunner) *system.System {
	return system.New(system.Config{Layout: layout.New("/"), Run: f.run})
}

func TestSystem_EnsureUser_createsSystemUserWithoutLogin(t *testing.T) {
	f := &fakeRunner{users: map[string]string{}}
	a, err := live(f).EnsureUser(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"getent passwd hvmigrate",
		"useradd --system --user-group --home-dir /var/lib/hvmigrate --no-create-home --shell /usr/sbin/nologin --comment hvmigrate services hvmigrate",
		"getent passwd hvmigrate",
	}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("ran\n%s\nwant\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
	}
	if a != (system.Account{Name: "hvmigrate", UID: 997, GID: 996, Created: true}) {
		t.Errorf("account %+v", a)
	}
}

func TestSystem_EnsureUser_existing_isKept(t *testing.T) {
	f := &fakeRunner{users: map[string]string{"hvmigrate": "hvmigrate:x:120:130::/var/lib/hvmigrate:/usr/sbin/nologin"}}
	a, err := live(f).EnsureUser(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 1 || a.Created || a.UID != 120 || a.GID != 130 {
		t.Errorf("calls %v, account %+v", f.calls, a)
	}
}

func TestSystem_EnsureUser_offline_runsNothing(t *testing.T) {
	f := &fakeRunner{users: map[string]string{}}
	s := system.New(system.Config{Layout: layout.New(t.TempDir()), Run: f.run})
	a, err := s.EnsureUser(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 || a.UID != -1 || a.Created {
		t.Errorf("calls %v, account %+v", f.calls, a)
	}
}

func TestSystem_liveServiceCommands(t *testing.T) {
	names := []string{layout.Agent, layout.Provider}
	tests := []struct {
		name string
		do   func(*system.System) error
		want []string
	}{
		{"enable", func(s *system.System) error { return s.EnableServices(context.Background(), names) },
			[]string{"systemctl daemon-reload", "systemctl enable --now hvm-agent.service hvm-provider.service"}},
		{"restart", func(s *system.System) error { return s.RestartServices(context.Background(), names) },
			[]string{"systemctl daemon-reload", "systemctl restart hvm-agent.service hvm-provider.service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeRunner{}
			if err := tt.do(live(f)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.calls, tt.want) {
				t.Errorf("ran %q, want %q", f.calls, tt.want)
			}
		})
	}
}

// TestUnits_matchLayout holds the units' paths to the layout the installer
// writes, and the local wire's directory to the agent's requirements.
func TestUnits_matchLayout(t *testing.T) {
	l := layout.New("/")
	tests := []struct {
		service string
		want    []string
	}{
		{layout.Agent, []string{
			"User=" + layout.User,
			"EnvironmentFile=" + system.EnvFile(l, layout.Agent),
			"ExecStart=" + l.Binary(layout.Agent) + " serve $HVM_AGENT_ARGS",
			"RuntimeDirectory=hvmigrate",
			"RuntimeDirectoryMode=0700",
			"StateDirectoryMode=0700",
			"WantedBy=multi-user.target",
		}},
		{layout.Provider, []string{
			"User=" + layout.User,
			"EnvironmentFile=" + system.EnvFile(l, layout.Provider),
			"ExecStart=" + l.Binary(layout.Provider) + " run $HVM_PROVIDER_ARGS",
			"ConditionPathExists=" + l.IdentityDir + "/host-cert.pem",
			"WantedBy=multi-user.target",
		}},
	}
	if got := "/run/hvmigrate/agent.sock"; l.AgentEndpoint != got {
		t.Errorf("agent endpoint %s is not in the unit's RuntimeDirectory", l.AgentEndpoint)
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			b, err := system.Units.ReadFile("units/" + tt.service + ".service")
			if err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for sc := bufio.NewScanner(strings.NewReader(string(b))); sc.Scan(); {
				lines[sc.Text()] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("unit lacks the line %q", w)
				}
			}
		})
	}
}
