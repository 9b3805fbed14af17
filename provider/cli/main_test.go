package cli_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	agentcli "hvmigrate/agent/cli"
	hubcli "hvmigrate/hub/cli"
	"hvmigrate/provider/cli"
	"hvmigrate/shared/testenv"
)

// playVar makes the test binary play a real hvm-hub, hvm-agent or
// hvm-provider process.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	switch os.Getenv(playVar) {
	case "hub":
		os.Exit(hubcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "agent":
		os.Exit(agentcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "provider":
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer

// proc is a child process the test binary plays.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startProc runs the test binary as role with args and waits until its
// output shows ready.
func startProc(t *testing.T, role, ready string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), playVar+"="+role, "HVM_LOG_LEVEL=debug")
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", role, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", role, p.out.String())
		}
	})
	waitUntil(t, role+" ready", 20*time.Second, func() bool { return strings.Contains(p.out.String(), ready) })
	return p
}

func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
