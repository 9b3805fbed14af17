package cli_test

import (
	"context"
	"crypto/rand"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/agent/cli"
	"hvmigrate/integration/azurite"
	"hvmigrate/shared/testenv"
	"hvmigrate/shared/vhdx"
)

// playVar makes the test binary play a real hvm-agent process.
const playVar = "HVM_TEST_PLAY_AGENT"

func TestMain(m *testing.M) {
	if os.Getenv(playVar) != "" {
		os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// proc is an agent process whose output the test can read.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

func startAgent(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), playVar+"=1", "HVM_LOG_LEVEL=debug")
	p := &proc{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// wait returns the exit code, or fails after d.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		t.Fatalf("process still running after %s:\n%s", d, p.out.String())
		return -1
	}
}

func (p *proc) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q in:\n%s", s, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer collects a process's output while it runs.
type syncBuffer = testenv.Buffer

// countingProxy forwards TCP connections to upstream and counts the bytes
// clients send, so tests can bound what a resumed transfer resends.
type countingProxy struct {
	l    net.Listener
	sent atomic.Int64
}

func newCountingProxy(t *testing.T, upstream string) *countingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{l: l}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c, upstream)
		}
	}()
	return p
}

func (p *countingProxy) serve(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		io.Copy(c, u)
		c.Close()
	}()
	io.Copy(countingWriter{u, &p.sent}, c)
}

// countingWriter counts bytes as they pass, so open connections count too.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

func (p *countingProxy) addr() string { return p.l.Addr().String() }

// storage is Azurite with a container and its CA on disk.
type storage struct {
	srv    *azurite.Server
	caFile string
}

func newStorage(t *testing.T) *storage {
	t.Helper()
	srv := azurite.Start(t)
	if err := srv.CreateContainer(context.Background(), "replicas"); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return &storage{srv: srv, caFile: ca}
}

// sasVia returns a blob SAS URL that goes through host instead of
// Azurite's own address, and the signature for log scans.
func (s *storage) sasVia(t *testing.T, name, host string) (url, sig string) {
	t.Helper()
	u, err := s.srv.BlobSAS("replicas", name, sas.BlobPermissions{Create: true, Write: true})
	if err != nil {
		t.Fatal(err)
	}
	_, q, _ := strings.Cut(u, "sig=")
	sig, _, _ = strings.Cut(q, "&")
	return strings.Replace(u, s.srv.Host, host, 1), sig
}

func (s *storage) download(t *testing.T, name string) []byte {
	t.Helper()
	c, err := s.srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.DownloadStream(context.Background(), "replicas", name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeDisk writes a dynamic VHDX of size bytes with about dataBytes of
// random data in 1 MiB pieces at random places, and returns its content.
func makeDisk(t *testing.T, path string, size, dataBytes int64, seed uint64) []byte {
	t.Helper()
	w, err := vhdx.Create(path, vhdx.CreateOptions{Size: size, BlockSize: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	oracle := make([]byte, size)
	rng := mrand.New(mrand.NewPCG(seed, 3))
	buf := make([]byte, 1<<20)
	for written := int64(0); written < dataBytes; written += int64(len(buf)) {
		off := int64(rng.IntN(int(size/int64(len(buf))))) * int64(len(buf))
		rand.Read(buf)
		if _, err := w.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
		copy(oracle[off:], buf)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return oracle
}
