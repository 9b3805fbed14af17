// Package azurite runs the Azurite blob emulator over HTTPS on a loopback
// port for tests and demos. It makes a throwaway CA and server certificate,
// starts the blob service with node so that the process it stops is
// Azurite's own, waits until the service answers over TLS, and removes
// everything on Close.
//
// Azurite comes from the project's pinned npm tools (tools/npm, installed by
// the Makefile); $HVM_AZURITE_DIR points elsewhere. Start skips the test when
// node or Azurite is missing, unless skipping is disallowed (CI).
package azurite

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"hvmigrate/shared/secret"
	"hvmigrate/shared/testenv"
)

// Development account that Azurite accepts; both values are public.
const (
	AccountName = "devstoreaccount1"
	accountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Options tune Run. The zero value is usable.
type Options struct {
	// Script is the path of Azurite's blob main.js; empty means Locate().
	Script string
	// Node is the node executable; empty means the one on PATH.
	Node string
	// DataDir is where Azurite keeps blobs; empty means a temporary folder
	// removed by Close. It is not used with InMemory.
	DataDir string
	// InMemory keeps blobs in the emulator's memory
	// (--inMemoryPersistence) instead of its file store.
	InMemory bool
	// Output receives Azurite's stdout and stderr; nil discards them.
	Output io.Writer
	// StartTimeout bounds the wait for the service; zero means 30 s.
	StartTimeout time.Duration
}

// Server is a running emulator.
type Server struct {
	// Endpoint is the account URL, https://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
	// Host is 127.0.0.1:PORT.
	Host string
	// CAPEM is the PEM of the CA that signed the server certificate.
	CAPEM []byte
	// RootCAs holds that CA only.
	RootCAs *x509.CertPool
	// Account is the development account name.
	Account string
	// Key is the development account key.
	Key secret.String

	proc     *process
	tempDir  string
	stopOnce sync.Once
	stopErr  error
}

// Run starts the blob service and waits until it answers. ctx bounds the
// start-up only; the caller must Close the server.
func Run(ctx context.Context, opts Options) (*Server, error) {
	opts, err := withDefaults(opts)
	if err != nil {
		return nil, err
	}
	tempDir, err := os.MkdirTemp("", "azurite-")
	if err != nil {
		return nil, fmt.Errorf("azurite temp dir: %w", err)
	}
	var lastErr error
	for range 3 { // a port picked as free can be taken before Azurite binds it
		s, err := start(ctx, opts, tempDir)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	_ = os.RemoveAll(tempDir)
	return nil, lastErr
}

func withDefaults(opts Options) (Options, error) {
	var err error
	if opts.Script == "" {
		if opts.Script, err = Locate(); err != nil {
			return opts, err
		}
	}
	if opts.Node == "" {
		if opts.Node, err = lookNode(); err != nil {
			return opts, err
		}
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	return opts, nil
}

// start makes the certificates, launches node and waits for readiness.
func start(ctx context.Context, opts Options, tempDir string) (*Server, error) {
	files, err := writeTLSFiles(tempDir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := newServer(files.caPEM, port, tempDir)
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = tempDir
	}
	var out testenv.Buffer // both output pipes write to it
	if err := s.launch(opts, files, dataDir, &out); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, opts.StartTimeout); err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("%w; azurite output: %s", err, out.String())
	}
	return s, nil
}

func newServer(caPEM []byte, port int, tempDir string) *Server {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return &Server{
		Endpoint: "https://" + host + "/" + AccountName,
		Host:     host,
		CAPEM:    caPEM,
		RootCAs:  pool,
		Account:  AccountName,
		Key:      secret.New(accountKey),
		proc:     &process{exited: make(chan struct{})},
		tempDir:  tempDir,
	}
}

func (s *Server) launch(opts Options, files tlsFiles, dataDir string, out *testenv.Buffer) error {
	_, port, _ := net.SplitHostPort(s.Host)
	store := []string{"--location", dataDir}
	if opts.InMemory {
		store = []string{"--inMemoryPersistence"}
	}
	args := append([]string{opts.Script,
		"--blobHost", "127.0.0.1", "--blobPort", port,
		"--cert", files.certPath, "--key", files.keyPath},
		store...)
	cmd := exec.Command(opts.Node, append(args, "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent")...)
	var w io.Writer = out
	if opts.Output != nil {
		w = io.MultiWriter(w, opts.Output)
	}
	cmd.Stdout, cmd.Stderr = w, w
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start azurite: %w", err)
	}
	s.proc.cmd = cmd
	go func() {
		s.proc.waitErr = cmd.Wait()
		close(s.proc.exited)
	}()
	return nil
}

// waitReady polls the endpoint until any HTTP answer arrives over TLS.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := s.HTTPClient()
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"?comp=list", nil)
		if err != nil {
			return fmt.Errorf("azurite probe: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.proc.exited:
			return fmt.Errorf("azurite exited during start-up: %v", s.proc.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("azurite did not answer on %s: %w", s.Host, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TLSConfig returns a client TLS configuration that trusts the emulator.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
}

// HTTPClient returns a plain HTTPS client that trusts the emulator.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{TLSClientConfig: s.TLSConfig()},
		Timeout:   30 * time.Second,
	}
}

// Close stops the emulator (its whole process group) and removes the
// temporary files. It is safe to call more than once.
func (s *Server) Close() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stop()
		if err := os.RemoveAll(s.tempDir); err != nil && s.stopErr == nil {
			s.stopErr = fmt.Errorf("remove azurite files: %w", err)
		}
	})
	return s.stopErr
}

func (s *Server) stop() error {
	p := s.proc
	if p.cmd == nil {
		return nil
	}
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := killGroup(p.cmd); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill azurite: %w", err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("azurite did not exit after kill")
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is the emulator's node process.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{} // closed when Wait returns
	waitErr error         // set before exited is closed
}
