package driver_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	agentcli "hvmigrate/agent/cli"
	"hvmigrate/shared/testenv"
)

// playVar makes the test binary play a real hvm-agent process.
const playVar = "HVM_TEST_PLAY"

func TestMain(m *testing.M) {
	if os.Getenv(playVar) == "agent" {
		os.Exit(agentcli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// agentProc is a running agent process.
type agentProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// startAgent runs the test binary as `hvm-agent serve` with args.
func startAgent(t *testing.T, args ...string) *agentProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), playVar+"=agent", "HVM_LOG_LEVEL=debug")
	p := &agentProc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("agent output:\n%s", p.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.out.String(), "agent serving") {
		if time.Now().After(deadline) {
			t.Fatalf("agent did not start:\n%s", p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *agentProc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer
