package cluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Proc is one long-running program of the cluster. Its output goes,
// across restarts, to one log file.
type Proc struct {
	Name    string
	LogPath string
	bin     string
	args    []string
	env     []string

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	lives int
}

func newProc(name, logPath, bin string, args ...string) *Proc {
	return &Proc{Name: name, LogPath: logPath, bin: bin, args: args}
}

// Start runs the program; it fails if the program is running.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s is running", p.Name)
	}
	f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	p.lives++
	fmt.Fprintf(f, "=== %s life %d: %s %s\n", p.Name, p.lives, p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

// Running reports whether the program was started and not yet stopped.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Kill ends the program with SIGKILL and waits for it.
func (p *Proc) Kill() { p.signal(syscall.SIGKILL, 0) }

// Stop asks the program to end with SIGTERM and kills it after grace.
func (p *Proc) Stop(grace time.Duration) { p.signal(syscall.SIGTERM, grace) }

func (p *Proc) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			cmd.Process.Kill()
		}
	}
	<-done
}

// Exited reports whether a started program has ended by itself.
func (p *Proc) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		return false
	}
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Lives is how many times the program was started.
func (p *Proc) Lives() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lives
}

// CountLog is how many lines of the log, over every life, contain s.
func (p *Proc) CountLog(s string) int {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// WaitLog waits until the log holds count lines containing s.
func (p *Proc) WaitLog(t testing.TB, s string, count int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for p.CountLog(s) < count {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no %d× %q in its log within %s; log tail:\n%s", p.Name, count, s, timeout, tail(p.LogPath, 30))
		}
		if p.Exited() {
			t.Fatalf("%s exited; log tail:\n%s", p.Name, tail(p.LogPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
