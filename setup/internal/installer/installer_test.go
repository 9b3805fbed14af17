//go:build !windows

package installer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"hvmigrate/setup/internal/config"
	"hvmigrate/setup/internal/installer"
	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/manifest"
	"hvmigrate/setup/internal/payload"
	"hvmigrate/setup/internal/system"
)

// fakeProvider plays `hvm-provider register`: it appends its command line
// to register.log beside itself and stores a certificate in --dir.
const fakeProvider = `#!/bin/sh
echo "$0 $*" >> "$(dirname "$0")/register.log"
while [ $# -gt 0 ]; do
	case "$1" in --dir) dir=$2; shift ;; esac
	shift
done
echo cert > "$dir/host-cert.pem"
echo "registered as host h-1"
`

func testPayload(agent string) payload.Payload {
	return payload.New(fstest.MapFS{
		"hvm-provider": {Data: []byte(fakeProvider), Mode: 0o755},
		"hvm-agent":    {Data: []byte(agent), Mode: 0o755},
	})
}

// env is an installer working under a temporary root.
type env struct {
	t    *testing.T
	root string
	l    layout.Layout
	out  bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root := t.TempDir()
	return &env{t: t, root: root, l: layout.New(root)}
}

func (e *env) installer(p payload.Payload) *installer.Installer {
	e.out.Reset()
	return installer.New(installer.Config{
		Layout:   e.l,
		Payload:  p,
		Platform: system.New(system.Config{Layout: e.l}),
		Out:      &e.out,
		Release:  "v1.2.3",
		Now:      func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	})
}

func (e *env) install(o installer.InstallOptions) {
	e.t.Helper()
	if o.Config.LogLevel == "" {
		o.Config.LogLevel = "info"
	}
	if err := e.installer(testPayload("agent v1")).Install(context.Background(), o); err != nil {
		e.t.Fatalf("install: %v", err)
	}
}

// path is where the live path p is under the root.
func (e *env) path(p string) string { return e.l.At(p) }

func (e *env) read(p string) string {
	e.t.Helper()
	b, err := os.ReadFile(e.path(p))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func (e *env) mode(p string) fs.FileMode {
	e.t.Helper()
	fi, err := os.Lstat(e.path(p))
	if err != nil {
		e.t.Fatal(err)
	}
	return fi.Mode()
}

func (e *env) exists(p string) bool {
	_, err := os.Lstat(e.path(p))
	return err == nil
}

// tree lists every file under the root with its mode and content (links
// with their target), the manifest's timestamps aside.
func (e *env) tree() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(e.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(e.root, p)
		v := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			v += " -> " + target
		case fi.Mode().IsRegular() && rel != strings.TrimPrefix(e.l.Manifest, "/"):
			b, _ := os.ReadFile(p)
			v += " " + string(b)
		}
		out[rel] = v
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestInstall_offlineRoot_layout(t *testing.T) {
	e := newEnv(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.install(installer.InstallOptions{
		Config:        config.Config{StorageEndpoint: "https://acct.blob.example", Simhost: "/run/hvm-simhost/sim.sock", LogLevel: "debug"},
		StorageCAFile: ca,
	})

	for _, b := range []struct{ path, body string }{
		{"/opt/hvmigrate/bin/hvm-provider", fakeProvider},
		{"/opt/hvmigrate/bin/hvm-agent", "agent v1"},
	} {
		if got := e.read(b.path); got != b.body {
			t.Errorf("%s holds %q", b.path, got)
		}
		if m := e.mode(b.path); m != 0o755 {
			t.Errorf("%s mode %v, want 0755", b.path, m)
		}
	}
	wantModes := map[string]fs.FileMode{
		"/opt/hvmigrate":                        fs.ModeDir | 0o755,
		"/etc/hvmigrate":                        fs.ModeDir | 0o750,
		"/var/lib/hvmigrate":                    fs.ModeDir | 0o700,
		"/var/lib/hvmigrate/agent":              fs.ModeDir | 0o700,
		"/var/lib/hvmigrate/provider":           fs.ModeDir | 0o700,
		"/var/lib/hvmigrate/provider/identity":  fs.ModeDir | 0o700,
		"/etc/hvmigrate/hvm-agent.env":          0o640,
		"/etc/hvmigrate/hvm-provider.env":       0o640,
		"/etc/hvmigrate/storage-ca.pem":         0o640,
		"/etc/systemd/system/hvm-agent.service": 0o644,
	}
	for p, want := range wantModes {
		if got := e.mode(p); got != want {
			t.Errorf("%s mode %v, want %v", p, got, want)
		}
	}
	if got := e.read("/etc/hvmigrate/storage-ca.pem"); got != "PEM" {
		t.Errorf("storage CA copy holds %q", got)
	}

	agentEnv := e.read("/etc/hvmigrate/hvm-agent.env")
	for _, want := range []string{
		"HVM_LOG_LEVEL=debug\n",
		`HVM_AGENT_ARGS="--listen /run/hvmigrate/agent.sock --state-dir /var/lib/hvmigrate/agent --storage-endpoint https://acct.blob.example --storage-ca /etc/hvmigrate/storage-ca.pem"` + "\n",
	} {
		if !strings.Contains(agentEnv, want) {
			t.Errorf("agent env lacks %q:\n%s", want, agentEnv)
		}
	}
	providerEnv := e.read("/etc/hvmigrate/hvm-provider.env")
	want := `HVM_PROVIDER_ARGS="--agent /run/hvmigrate/agent.sock --identity /var/lib/hvmigrate/provider/identity --state /var/lib/hvmigrate/provider/state.db --simhost /run/hvm-simhost/sim.sock"` + "\n"
	if !strings.Contains(providerEnv, want) {
		t.Errorf("provider env lacks %q:\n%s", want, providerEnv)
	}

	for _, name := range []string{"hvm-agent", "hvm-provider"} {
		unit, err := system.Units.ReadFile("units/" + name + ".service")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.read("/etc/systemd/system/" + name + ".service"); got != string(unit) {
			t.Errorf("%s unit differs from the embedded one", name)
		}
		link := "/etc/systemd/system/multi-user.target.wants/" + name + ".service"
		target, err := os.Readlink(e.path(link))
		if err != nil {
			t.Fatalf("%s not enabled: %v", name, err)
		}
		if target != "/etc/systemd/system/"+name+".service" {
			t.Errorf("%s -> %s", link, target)
		}
	}

	m, err := manifest.Load(e.path("/opt/hvmigrate/install.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Offline || m.User != "hvmigrate" || m.UserCreated || m.Release != "v1.2.3" || len(m.Binaries) != 2 || len(m.Services) != 2 {
		t.Errorf("manifest %+v", m)
	}
	if e.exists("/var/lib/hvmigrate/provider/identity/host-cert.pem") {
		t.Error("registered without --key")
	}
	if !strings.Contains(e.out.String(), "hvm-setup install --key FILE") {
		t.Errorf("output does not say how to register:\n%s", e.out.String())
	}
}

func TestInstall_rerun_keepsConfigUnlessReconfigure(t *testing.T) {
	e := newEnv(t)
	first := installer.InstallOptions{Config: config.Config{StorageEndpoint: "https://one.example", Simhost: "/s.sock"}}
	e.install(first)
	before := e.tree()

	second := installer.InstallOptions{Config: config.Config{StorageEndpoint: "https://two.example", Simhost: "/s.sock"}}
	e.install(second)
	after := e.tree()
	for p, v := range before {
		if after[p] != v {
			t.Errorf("re-install changed %s:\n%s\n->\n%s", p, v, after[p])
		}
	}
	if len(after) != len(before) {
		t.Errorf("re-install changed the file count: %d -> %d", len(before), len(after))
	}
	if !strings.Contains(e.out.String(), "kept existing configuration /etc/hvmigrate/hvm-agent.env") {
		t.Errorf("output does not say the config was kept:\n%s", e.out.String())
	}

	second.Reconfigure = true
	e.install(second)
	if env := e.read("/etc/hvmigrate/hvm-agent.env"); !strings.Contains(env, "https://two.example") {
		t.Errorf("--reconfigure kept the old config:\n%s", env)
	}
}

func TestInstall_withoutPayload_refuses(t *testing.T) {
	e := newEnv(t)
	err := e.installer(payload.New(fstest.MapFS{"README.md": {Data: []byte("x")}})).Install(context.Background(),
		installer.InstallOptions{Config: config.DefaultConfig()})
	if !errors.Is(err, payload.ErrMissing) {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
	if !strings.Contains(err.Error(), "hvm-provider") || !strings.Contains(err.Error(), "hvm-agent") {
		t.Errorf("error does not name the missing binaries: %v", err)
	}
	if entries, _ := os.ReadDir(e.root); len(entries) != 0 {
		t.Errorf("wrote %d entries into the root", len(entries))
	}
}

func TestInstall_key_runsInstalledProviderRegisterOnce(t *testing.T) {
	e := newEnv(t)
	key := filepath.Join(t.TempDir(), "key.json")
	o := installer.InstallOptions{Config: config.Config{Simhost: "/s.sock"}, KeyFile: key}
	e.install(o)
	log := e.read("/opt/hvmigrate/bin/register.log")
	want := e.path("/opt/hvmigrate/bin/hvm-provider") + " register --key " + key + " --dir " + e.path("/var/lib/hvmigrate/provider/identity") + "\n"
	if log != want {
		t.Fatalf("provider ran as\n%q\nwant\n%q", log, want)
	}
	if !strings.Contains(e.out.String(), "registered as host h-1") {
		t.Errorf("register output not shown:\n%s", e.out.String())
	}
	e.install(o)
	if got := e.read("/opt/hvmigrate/bin/register.log"); got != want {
		t.Errorf("re-install registered again:\n%s", got)
	}
	if !strings.Contains(e.out.String(), "already registered") {
		t.Errorf("output does not say the host is registered:\n%s", e.out.String())
	}
}

func TestUpgrade_replacesBinaries_keepsConfigIdentityState(t *testing.T) {
	e := newEnv(t)
	e.install(installer.InstallOptions{Config: config.Config{Simhost: "/s.sock"}})
	edited := e.read("/etc/hvmigrate/hvm-agent.env") + "# edited by hand\n"
	for p, body := range map[string]string{
		"/etc/hvmigrate/hvm-agent.env":                       edited,
		"/var/lib/hvmigrate/provider/identity/host-cert.pem": "cert",
		"/var/lib/hvmigrate/provider/state.db":               "state",
		"/var/lib/hvmigrate/agent/agent.db":                  "jobs",
	} {
		if err := os.WriteFile(e.path(p), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.installer(testPayload("agent v2")).Upgrade(context.Background()); err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if got := e.read("/opt/hvmigrate/bin/hvm-agent"); got != "agent v2" {
		t.Errorf("agent binary holds %q after upgrade", got)
	}
	for p, want := range map[string]string{
		"/etc/hvmigrate/hvm-agent.env":                       edited,
		"/var/lib/hvmigrate/provider/identity/host-cert.pem": "cert",
		"/var/lib/hvmigrate/provider/state.db":               "state",
		"/var/lib/hvmigrate/agent/agent.db":                  "jobs",
	} {
		if got := e.read(p); got != want {
			t.Errorf("upgrade changed %s to %q", p, got)
		}
	}
	m, err := manifest.Load(e.path("/opt/hvmigrate/install.json"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("agent v2"))
	if m.Binaries[1].Path != "/opt/hvmigrate/bin/hvm-agent" || m.Binaries[1].SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("manifest does not record the new agent: %+v", m.Binaries)
	}
}

func statusOf(t *testing.T, e *env) string {
	t.Helper()
	if err := e.installer(testPayload("unused")).Status(context.Background()); err != nil {
		t.Fatalf("status: %v", err)
	}
	return e.out.String()
}

func TestUninstall_keepsStateUnlessPurge(t *testing.T) {
	e := newEnv(t)
	e.install(installer.InstallOptions{Config: config.Config{Simhost: "/s.sock"}})
	cert := "/var/lib/hvmigrate/provider/identity/host-cert.pem"
	if err := os.WriteFile(e.path(cert), []byte("cert"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.installer(testPayload("x")).Uninstall(context.Background(), false); err != nil {
		t.Fatalf("uninstall: %v", err)
	}
	for _, gone := range []string{"/opt/hvmigrate", "/etc/systemd/system/hvm-agent.service", "/etc/systemd/system/hvm-provider.service",
		"/etc/systemd/system/multi-user.target.wants/hvm-agent.service", "/etc/systemd/system/multi-user.target.wants/hvm-provider.service"} {
		if e.exists(gone) {
			t.Errorf("%s left after uninstall", gone)
		}
	}
	for _, kept := range []string{cert, "/etc/hvmigrate/hvm-agent.env", "/etc/hvmigrate/hvm-provider.env"} {
		if !e.exists(kept) {
			t.Errorf("uninstall removed %s", kept)
		}
	}
	if err := e.installer(testPayload("x")).Uninstall(context.Background(), false); !errors.Is(err, manifest.ErrNotInstalled) {
		t.Errorf("second uninstall: err = %v, want ErrNotInstalled", err)
	}

	e.install(installer.InstallOptions{Config: config.Config{Simhost: "/s.sock"}})
	if got := e.read(cert); got != "cert" {
		t.Errorf("re-install after uninstall lost the identity: %q", got)
	}
	if err := e.installer(testPayload("x")).Uninstall(context.Background(), true); err != nil {
		t.Fatalf("uninstall --purge: %v", err)
	}
	for _, gone := range []string{"/etc/hvmigrate", "/var/lib/hvmigrate", "/opt/hvmigrate"} {
		if e.exists(gone) {
			t.Errorf("%s left after purge", gone)
		}
	}
}

func TestUpgradeAndStatus_withoutInstall_sayNotInstalled(t *testing.T) {
	e := newEnv(t)
	in := e.installer(testPayload("x"))
	if err := in.Upgrade(context.Background()); !errors.Is(err, manifest.ErrNotInstalled) {
		t.Errorf("upgrade: err = %v", err)
	}
	if err := in.Status(context.Background()); !errors.Is(err, manifest.ErrNotInstalled) {
		t.Errorf("status: err = %v", err)
	}
}

func TestStatus_reportsModifiedBinaryAndRegistration(t *testing.T) {
	e := newEnv(t)
	e.install(installer.InstallOptions{Config: config.Config{Simhost: "/s.sock"}, KeyFile: "key.json"})
	if err := os.WriteFile(e.path("/opt/hvmigrate/bin/hvm-agent"), []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := statusOf(t, e)
	for _, want := range []string{
		"binary  /opt/hvmigrate/bin/hvm-provider: ok",
		"binary  /opt/hvmigrate/bin/hvm-agent: modified since install",
		"service hvm-agent: enabled (offline root)",
		"config  /etc/hvmigrate/hvm-provider.env: present",
		"host    /var/lib/hvmigrate/provider/identity: registered",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
