//go:build !windows

package cli_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	hubcli "hvmigrate/hub/cli"
	"hvmigrate/hub/ctl"
	providercli "hvmigrate/provider/cli"
	"hvmigrate/setup/internal/cli"
	"hvmigrate/setup/internal/payload"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/testenv"
)

// playVar makes the test binary play a real hvm-hub or hvm-provider.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	switch os.Getenv(playVar) {
	case "hub":
		os.Exit(hubcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "provider":
		os.Exit(providercli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// setup runs hvm-setup with args and returns its exit code and output.
func setup(t *testing.T, d cli.Deps, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := cmdline.Run(cli.NewRootCommand(d), args, &out, &out, nil)
	return code, out.String()
}

func fakePayload() payload.Payload {
	return payload.New(fstest.MapFS{
		"hvm-provider": {Data: []byte("#!/bin/sh\nexit 0\n")},
		"hvm-agent":    {Data: []byte("#!/bin/sh\nexit 0\n")},
	})
}

func TestSetup_installStatusUninstall(t *testing.T) {
	d := cli.Deps{Payload: fakePayload()}
	root := t.TempDir()
	if code, out := setup(t, d, "install", "--root", root, "--storage-endpoint", "https://acct.example", "--simhost", "/run/sim.sock"); code != cmdline.ExitOK {
		t.Fatalf("install: exit %d: %s", code, out)
	}
	code, out := setup(t, d, "status", "--root", root)
	if code != cmdline.ExitOK || !strings.Contains(out, "service hvm-agent: enabled (offline root)") || !strings.Contains(out, "not registered") {
		t.Fatalf("status: exit %d: %s", code, out)
	}
	if code, out := setup(t, d, "uninstall", "--root", root, "--purge"); code != cmdline.ExitOK {
		t.Fatalf("uninstall: exit %d: %s", code, out)
	}
	if code, out := setup(t, d, "status", "--root", root); code != cmdline.ExitError || !strings.Contains(out, "no hvm-setup installation found") {
		t.Fatalf("status after uninstall: exit %d: %s", code, out)
	}
}

func TestSetup_badFlags_refusedBeforeWriting(t *testing.T) {
	d := cli.Deps{Payload: fakePayload()}
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"plain http storage", []string{"install", "--storage-endpoint", "http://plain.example"}, cmdline.ExitUsage},
		{"unknown log level", []string{"install", "--service-log-level", "loud"}, cmdline.ExitUsage},
		{"register without key", []string{"register"}, cmdline.ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if code, out := setup(t, d, append(tt.args, "--root", root)...); code != tt.want {
				t.Errorf("exit %d, want %d: %s", code, tt.want, out)
			}
			if entries, _ := os.ReadDir(root); len(entries) != 0 {
				t.Errorf("wrote %d entries into the root", len(entries))
			}
		})
	}
}

func TestSetup_version_saysWhetherItCarriesThePayload(t *testing.T) {
	for _, tt := range []struct {
		p    payload.Payload
		want string
	}{
		{fakePayload(), "carries hvm-provider and hvm-agent"},
		{payload.New(fstest.MapFS{}), "carries no payload"},
	} {
		if code, out := setup(t, cli.Deps{Payload: tt.p}, "version"); code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("version: exit %d: %q, want %q", code, out, tt.want)
		}
	}
}

// TestSetup_installKey_registersWithRealHub installs the real provider (the
// test binary playing it) and registers it with a running hvm-hub.
func TestSetup_installKey_registersWithRealHub(t *testing.T) {
	hubDir := startHub(t)
	hubctl(t, hubDir, "project", "create", "proj")
	key := filepath.Join(t.TempDir(), "key.json")
	hubctl(t, hubDir, "key", "create", "--project", "proj", "--valid", "1h", "--out", key)

	bins := t.TempDir()
	if err := os.Symlink(os.Args[0], filepath.Join(bins, "hvm-provider")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bins, "hvm-agent"), []byte("agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := cli.Deps{Payload: payload.New(os.DirFS(bins)), Run: playing("provider")}
	root := t.TempDir()
	code, out := setup(t, d, "install", "--root", root, "--key", key, "--simhost", "/run/sim.sock")
	if code != cmdline.ExitOK || !strings.Contains(out, "registered as host") {
		t.Fatalf("install --key: exit %d: %s", code, out)
	}
	idDir := filepath.Join(root, "var/lib/hvmigrate/provider/identity")
	for _, f := range []string{"host-cert.pem", "host-key.pem"} {
		fi, err := os.Stat(filepath.Join(idDir, f))
		if err != nil {
			t.Fatalf("identity: %v", err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	m := regexp.MustCompile(`registered as host (\S+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no host id in the output: %s", out)
	}
	if hosts := hubctl(t, hubDir, "host", "list"); !strings.Contains(hosts, m[1]) {
		t.Errorf("the hub does not list host %s:\n%s", m[1], hosts)
	}
	// The key is single-use: a second registration would be refused, so a
	// successful re-install shows that the identity was kept.
	if code, out := setup(t, d, "install", "--root", root, "--key", key, "--simhost", "/run/sim.sock"); code != cmdline.ExitOK || !strings.Contains(out, "already registered") {
		t.Fatalf("re-install --key: exit %d: %s", code, out)
	}
}

// playing runs commands as the test binary playing role.
func playing(role string) func(ctx context.Context, name string, args ...string) (string, error) {
	return func(ctx context.Context, name string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = append(os.Environ(), playVar+"="+role)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

// startHub initialises a hub and runs it until the test ends.
func startHub(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hub")
	addr, admin := freeAddr(t), freeAddr(t)
	var out bytes.Buffer
	if code := hubcli.Main([]string{"init", "--dir", dir, "--listen", addr, "--admin-listen", admin, "--public-address", addr}, &out, &out); code != 0 {
		t.Fatalf("hvm-hub init: exit %d: %s", code, out.String())
	}
	cmd := exec.Command(os.Args[0], "serve", "--dir", dir)
	cmd.Env = append(os.Environ(), playVar+"=hub")
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("hub output:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "hub serving"); {
		if time.Now().After(deadline) {
			t.Fatalf("hub not serving after 20s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return dir
}

func hubctl(t *testing.T, hubDir string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := ctl.Main(append([]string{"--config", filepath.Join(hubDir, "hvmctl.json")}, args...), &out, &errOut); code != 0 {
		t.Fatalf("hvmctl %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer
