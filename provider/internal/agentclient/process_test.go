package agentclient_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	agentcli "hvmigrate/agent/cli"
	providercli "hvmigrate/provider/cli"
	"hvmigrate/shared/testenv"
)

// playVar makes the test binary play a real hvm-agent or hvm-provider
// process, so spawn, crash and restart paths run without prebuilt binaries.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	switch os.Getenv(playVar) {
	case "agent":
		os.Exit(agentcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "provider":
		os.Exit(providercli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is a child process whose output the test can wait on.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// startAgent runs an agent on sock with its state beside the socket.
func startAgent(t *testing.T, sock string) *proc {
	t.Helper()
	dir := sock[:strings.LastIndex(sock, "/run/")]
	return start(t, "agent", "serve", "--listen", sock, "--state-dir", dir+"/state")
}

// start runs the test binary as role with args.
func start(t *testing.T, role string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), playVar+"="+role, "HVM_LOG_LEVEL=debug")
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", role, err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", role, p.out.String())
		}
	})
	return p
}

// waitFor waits until the output holds s count times.
func (p *proc) waitFor(t *testing.T, s string, count int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(p.out.String(), s) < count {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q ×%d in:\n%s", s, count, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("process did not exit:\n%s", p.out.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer

func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hvmwire")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir + "/run/agent.sock"
}

func TestProcesses_handshakeAndGracefulStop(t *testing.T) {
	sock := socketPath(t)
	agent := startAgent(t, sock)
	agent.waitFor(t, "agent serving", 1)
	provider := start(t, "provider", "run", "--agent", sock)
	provider.waitFor(t, "connected to agent", 1)
	agent.waitFor(t, "provider connected", 1)

	for _, p := range []*proc{provider, agent} {
		p.cmd.Process.Signal(syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.out.String())
		}
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Fatalf("socket left behind after a graceful stop: %v", err)
	}
}

func TestProcesses_providerSurvivesAgentSIGKILL(t *testing.T) {
	sock := socketPath(t)
	agent := startAgent(t, sock)
	agent.waitFor(t, "agent serving", 1)
	provider := start(t, "provider", "run", "--agent", sock, "--agent-max-backoff", "200ms")
	provider.waitFor(t, "connected to agent", 1)

	for round := 1; round <= 3; round++ {
		agent.cmd.Process.Kill()
		agent.wait(t)
		provider.waitFor(t, "lost the agent; reconnecting", round)
		// The killed agent left its socket behind; the new one must clean it up.
		agent = startAgent(t, sock)
		agent.waitFor(t, "agent serving", 1)
		provider.waitFor(t, "connected to restarted agent", round)
	}
	select {
	case <-provider.done:
		t.Fatalf("provider exited while the agent restarted:\n%s", provider.out.String())
	default:
	}
}

func TestProcesses_protocolMismatchFailsLoudly(t *testing.T) {
	sock := socketPath(t)
	agent := startAgent(t, sock)
	agent.waitFor(t, "agent serving", 1)
	provider := start(t, "provider", "run", "--agent", sock, "--agent-protocol", "99")
	if code := provider.wait(t); code != providercli.ExitMismatch {
		t.Fatalf("exit code %d, want %d:\n%s", code, providercli.ExitMismatch, provider.out.String())
	}
	out := provider.out.String()
	for _, want := range []string{"agent protocol mismatch", "speaks protocol 99", "supports 1..1", "provider dev", "agent dev"} {
		if !strings.Contains(out, want) {
			t.Errorf("provider output lacks %q:\n%s", want, out)
		}
	}
	agent.waitFor(t, "refused provider", 1)
}

func TestProcesses_agentRefusesWorldWritableDir(t *testing.T) {
	sock := socketPath(t)
	dir := sock[:strings.LastIndex(sock, "/")]
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	agent := startAgent(t, sock)
	if code := agent.wait(t); code == 0 {
		t.Fatalf("agent started in a world-writable directory:\n%s", agent.out.String())
	}
	if out := agent.out.String(); !strings.Contains(out, "socket directory is not private") || !strings.Contains(out, fmt.Sprint(dir)) {
		t.Fatalf("unclear error:\n%s", out)
	}
}
