package hubclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	hubcli "hvmigrate/hub/cli"
	"hvmigrate/hub/ctl"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/shared/identity"
	"hvmigrate/shared/testenv"
)

// playVar makes the test binary play a real hvm-hub process.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	if os.Getenv(playVar) == "hub" {
		os.Exit(hubcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer

// proc is a child process whose output the test can wait on.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func startProc(t *testing.T, out *syncBuffer, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), playVar+"=hub", "HVM_LOG_LEVEL=debug")
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start hub: %v", err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func waitOutput(t *testing.T, out *syncBuffer, s string, count int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(out.String(), s) < count {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q ×%d in:\n%s", s, count, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// hubEnv is one hub directory and its running hvm-hub process.
type hubEnv struct {
	t        *testing.T
	dir      string
	provider string
	admin    string
	out      *syncBuffer // everything the hub process printed, across restarts
	ctlOut   *syncBuffer // everything hvmctl printed
	proc     *proc
	starts   int
}

func newHub(t *testing.T, initArgs ...string) *hubEnv {
	t.Helper()
	e := &hubEnv{t: t, dir: filepath.Join(t.TempDir(), "hub"), provider: freePort(t), admin: freePort(t),
		out: &syncBuffer{}, ctlOut: &syncBuffer{}}
	args := append([]string{"init", "--dir", e.dir, "--listen", e.provider, "--admin-listen", e.admin,
		"--public-address", e.provider, "--heartbeat-interval", "200ms", "--dead-peer-timeout", "2s"}, initArgs...)
	if code := hubcli.Main(args, e.ctlOut, e.ctlOut); code != 0 {
		t.Fatalf("hvm-hub init exit %d:\n%s", code, e.ctlOut.String())
	}
	e.start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("hub output:\n%s\nhvmctl output:\n%s", e.out.String(), e.ctlOut.String())
		}
	})
	return e
}

func (e *hubEnv) start() {
	e.t.Helper()
	e.proc = startProc(e.t, e.out, "serve", "--dir", e.dir)
	e.starts++
	waitOutput(e.t, e.out, "hub serving", e.starts)
}

// stop sends SIGTERM and requires a clean exit.
func (e *hubEnv) stop() {
	e.t.Helper()
	e.proc.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.proc.done:
	case <-time.After(15 * time.Second):
		e.t.Fatal("hub did not stop after SIGTERM")
	}
	if code := e.proc.cmd.ProcessState.ExitCode(); code != 0 {
		e.t.Fatalf("hub exit code %d after SIGTERM", code)
	}
}

// ctl runs hvmctl in this process against the hub.
func (e *hubEnv) ctl(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := ctl.Main(append([]string{"--config", filepath.Join(e.dir, "hvmctl.json")}, args...), &out, &errOut)
	e.ctlOut.Write(out.Bytes())
	e.ctlOut.Write(errOut.Bytes())
	return out.String(), errOut.String(), code
}

func (e *hubEnv) mustCtl(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.ctl(args...)
	if code != 0 {
		e.t.Fatalf("hvmctl %v: exit %d: %s", args, code, errOut)
	}
	return out
}

// key creates the project if needed and a key file valid for valid.
func (e *hubEnv) key(project, valid string) string {
	e.t.Helper()
	if out := e.mustCtl("project", "list", "-o", "json"); !strings.Contains(out, `"name": "`+project+`"`) {
		e.mustCtl("project", "create", project)
	}
	path := filepath.Join(e.t.TempDir(), "key.json")
	e.mustCtl("key", "create", "--project", project, "--valid", valid, "--out", path)
	return path
}

func readKeyFile(t *testing.T, path string) identity.KeyFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := identity.ParseKeyFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return kf
}

func writeKeyFile(t *testing.T, kf identity.KeyFile) string {
	t.Helper()
	b, err := identity.MarshalKeyFile(kf)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func register(t *testing.T, keyFile string) (hubclient.Identity, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "provider")
	id, err := hubclient.Register(context.Background(), keyFile, dir)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return id, dir
}

// linkEnv is a running Link with its log.
type linkEnv struct {
	link *hubclient.Link
	log  *syncBuffer
	done chan error
	stop context.CancelFunc
}

func startLink(t *testing.T, dir string, h hubclient.Handler, tune func(*hubclient.Config)) *linkEnv {
	t.Helper()
	cfg := hubclient.DefaultConfig(dir)
	cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 300*time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	le := &linkEnv{log: &syncBuffer{}, done: make(chan error, 1)}
	log := hclog.New(&hclog.LoggerOptions{Output: le.log, Level: hclog.Debug})
	l, err := hubclient.NewLink(cfg, h, log)
	if err != nil {
		t.Fatal(err)
	}
	le.link = l
	ctx, cancel := context.WithCancel(context.Background())
	le.stop = cancel
	go func() { le.done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-le.done
		if t.Failed() {
			t.Logf("link log:\n%s", le.log.String())
		}
	})
	return le
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	return v
}

// recorder is a command handler that records what it got and can fail.
type recorder struct {
	mu    sync.Mutex
	got   []hubclient.Command
	fails int // fail this many calls first
}

func (r *recorder) HandleCommand(_ context.Context, c hubclient.Command) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, c)
	if r.fails > 0 {
		r.fails--
		return errFailed
	}
	return nil
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.got {
		if c.ID == id {
			n++
		}
	}
	return n
}
