package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"hvmigrate/integration/azurite"
	simclient "hvmigrate/integration/simhost/client"
)

// Options shape a cluster.
type Options struct {
	// HubProxy puts toxiproxy between the provider and the hub, and
	// StorageProxy between storage and its clients (the agent, and the
	// hub, which must name the same endpoint in the SAS it grants).
	HubProxy, StorageProxy bool
	// IntervalCap shortens every cycle interval the hub asks for.
	IntervalCap time.Duration
	// DeadPeerTimeout is how long the hub waits on a silent host stream.
	DeadPeerTimeout time.Duration
	// GrantWait bounds an upload's wait for a SAS grant.
	GrantWait time.Duration
	// NoSwitchChecksums stops the simulated host hashing disks at every
	// log switch (faster, but recovery points cannot be checked).
	NoSwitchChecksums bool
	// KeepSwitchLogs has the simulated host keep a raw copy of the frozen
	// disks of each checkpoint and copies of the logs of each VM's
	// switches 1..N, so that a recovery point of those switches that
	// differs from its source is reported with the differing byte ranges.
	KeepSwitchLogs uint64
}

// DefaultOptions suit the suites: short intervals and timeouts.
func DefaultOptions() Options {
	return Options{IntervalCap: 2 * time.Second, DeadPeerTimeout: 4 * time.Second, GrantWait: 10 * time.Second}
}

// Cluster is a running hvmigrate installation on this machine.
type Cluster struct {
	T       testing.TB
	Dir     string
	LogDir  string
	Bin     Binaries
	Storage *azurite.Server
	// StorageEndpoint is the endpoint the hub and the agent use (the
	// proxy's when StorageProxy is set).
	StorageEndpoint string
	// Toxi is the toxiproxy API when a proxy was asked for.
	Toxi                     *toxiclient.Client
	HubProxy, StorageProxy   *toxiclient.Proxy
	Hub, Simhost, Agent, Prv *Proc
	// Sim is the simulated host's client, redialled by StartProc after a
	// restart; goroutines that outlive a restart use SimClient.
	Sim     *simclient.Client
	simMu   sync.Mutex
	Project string
	KeyFile string

	hubDir, ctlConfig, simSock, agentSock, identity, state string
	opts                                                   Options
}

// Start brings a cluster up: storage, (proxies,) hub with a project and a
// key, the simulated host, the agent, and the provider registered and
// running. Everything is stopped when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	bins, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	// Unix socket paths are short: keep the whole tree under a short root.
	dir, err := os.MkdirTemp("", "hvme2e")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{T: t, Dir: dir, LogDir: filepath.Join(dir, "logs"), Bin: bins, opts: opts}
	t.Cleanup(func() {
		c.stopAll()
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(c.LogDir, "*.log"))
			for _, l := range logs {
				t.Logf("--- last lines of %s:\n%s", filepath.Base(l), tail(l, 40))
			}
			t.Logf("cluster logs kept in %s", c.LogDir)
			return
		}
		os.RemoveAll(dir)
	})
	must(t, os.MkdirAll(c.LogDir, 0o700))
	c.Storage = azurite.Start(t)
	c.StorageEndpoint = c.Storage.Endpoint
	if opts.HubProxy || opts.StorageProxy {
		c.startToxiproxy()
	}
	if opts.StorageProxy {
		c.StorageProxy = c.proxy("storage", c.Storage.Host)
		c.StorageEndpoint = "https://" + c.StorageProxy.Listen + "/" + c.Storage.Account
	}
	c.startHub()
	c.startSimhost()
	c.startAgent()
	c.registerAndRunProvider()
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().String()
}

func (c *Cluster) log(name string) string { return filepath.Join(c.LogDir, name+".log") }

// run runs a one-shot command and returns its combined output.
func (c *Cluster) run(bin string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	f, ferr := os.OpenFile(c.log("commands"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if ferr == nil {
		fmt.Fprintf(f, "$ %s %s\n%s", filepath.Base(bin), strings.Join(args, " "), out.String())
		f.Close()
	}
	return out.String(), err
}

func (c *Cluster) startToxiproxy() {
	addr := freeAddr(c.T)
	host, port, _ := net.SplitHostPort(addr)
	p := newProc("toxiproxy", c.log("toxiproxy"), c.Bin.Toxiproxy, "-host", host, "-port", port)
	must(c.T, p.Start())
	c.T.Cleanup(func() { p.Stop(5 * time.Second) })
	c.Toxi = toxiclient.NewClient(addr)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := c.Toxi.Proxies(); err == nil {
			return
		} else if time.Now().After(deadline) {
			c.T.Fatalf("toxiproxy did not come up: %v\n%s", err, tail(p.LogPath, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) proxy(name, upstream string) *toxiclient.Proxy {
	px, err := c.Toxi.CreateProxy(name, freeAddr(c.T), upstream)
	must(c.T, err)
	return px
}

func (c *Cluster) startHub() {
	t := c.T
	c.hubDir = filepath.Join(c.Dir, "hub")
	listen, admin := freeAddr(t), freeAddr(t)
	public := listen
	if c.opts.HubProxy {
		c.HubProxy = c.proxy("hub", listen)
		public = c.HubProxy.Listen
	}
	if out, err := c.run(c.Bin.Hub, "init", "--dir", c.hubDir, "--listen", listen, "--admin-listen", admin,
		"--public-address", public, "--heartbeat-interval", "500ms",
		"--dead-peer-timeout", c.opts.DeadPeerTimeout.String()); err != nil {
		t.Fatalf("hvm-hub init: %v\n%s", err, out)
	}
	caFile, keyFile := filepath.Join(c.Dir, "storage-ca.pem"), filepath.Join(c.Dir, "storage.key")
	must(t, os.WriteFile(caFile, c.Storage.CAPEM, 0o600))
	must(t, os.WriteFile(keyFile, []byte(c.Storage.Key.Reveal()), 0o600))
	if out, err := c.run(c.Bin.Hub, "storage", "set", "--dir", c.hubDir, "--endpoint", c.StorageEndpoint,
		"--account", c.Storage.Account, "--key-file", keyFile, "--ca-file", caFile); err != nil {
		t.Fatalf("hvm-hub storage set: %v\n%s", err, out)
	}
	c.ctlConfig = filepath.Join(c.hubDir, "hvmctl.json")
	c.Hub = newProc("hub", c.log("hub"), c.Bin.Hub, "serve", "--dir", c.hubDir)
	c.Hub.env = []string{"HVM_LOG_LEVEL=debug"}
	c.StartProc(c.Hub)
	c.Ctl("project", "create", "e2e")
	var projects []struct{ ID string }
	c.CtlJSON(&projects, "project", "list")
	c.Project = projects[0].ID
	c.KeyFile = filepath.Join(c.Dir, "host.key")
	c.Ctl("key", "create", "--project", "e2e", "--valid", "1h", "--out", c.KeyFile)
}

func (c *Cluster) startSimhost() {
	c.simSock = filepath.Join(c.Dir, "sim", "simhost.sock")
	args := []string{"serve", "--dir", filepath.Join(c.Dir, "vms"), "--listen", c.simSock}
	if c.opts.NoSwitchChecksums {
		args = append(args, "--no-switch-checksums")
	}
	if c.opts.KeepSwitchLogs > 0 {
		args = append(args, "--keep-switch-logs", fmt.Sprint(c.opts.KeepSwitchLogs))
	}
	c.Simhost = newProc("simhost", c.log("simhost"), c.Bin.Simhost, args...)
	c.StartProc(c.Simhost)
}

func (c *Cluster) startAgent() {
	c.agentSock = filepath.Join(c.Dir, "run", "agent.sock")
	caFile := filepath.Join(c.Dir, "storage-ca.pem")
	c.Agent = newProc("agent", c.log("agent"), c.Bin.Agent, "serve", "--listen", c.agentSock,
		"--state-dir", filepath.Join(c.Dir, "agent-state"), "--storage-endpoint", c.StorageEndpoint, "--storage-ca", caFile)
	c.Agent.env = []string{"HVM_LOG_LEVEL=debug"}
	c.StartProc(c.Agent)
}

func (c *Cluster) registerAndRunProvider() {
	c.identity = filepath.Join(c.Dir, "identity")
	c.state = filepath.Join(c.Dir, "provider.db")
	if out, err := c.run(c.Bin.Provider, "register", "--key", c.KeyFile, "--dir", c.identity); err != nil {
		c.T.Fatalf("hvm-provider register: %v\n%s", err, out)
	}
	c.Prv = newProc("provider", c.log("provider"), c.Bin.Provider, "run", "--agent", c.agentSock,
		"--identity", c.identity, "--simhost", c.simSock, "--state", c.state, "--inventory-every", "1s",
		"--interval-cap", c.opts.IntervalCap.String(), "--grant-wait", c.opts.GrantWait.String(), "--agent-max-backoff", "500ms")
	c.Prv.env = []string{"HVM_LOG_LEVEL=debug"}
	c.StartProc(c.Prv)
}

// StartProc starts (or restarts) one of the cluster's programs and waits
// until it serves.
func (c *Cluster) StartProc(p *Proc) {
	t := c.T
	t.Helper()
	must(t, p.Start())
	switch p {
	case c.Hub:
		p.WaitLog(t, "hub serving", p.Lives(), 30*time.Second)
	case c.Agent:
		p.WaitLog(t, "agent serving", p.Lives(), 30*time.Second)
	case c.Prv:
		p.WaitLog(t, "hub mode", p.Lives(), 30*time.Second)
	case c.Simhost:
		c.waitSimhost()
	}
}

// waitSimhost (re)dials the simulated host once its socket answers.
func (c *Cluster) waitSimhost() {
	t := c.T
	t.Helper()
	c.simMu.Lock()
	defer c.simMu.Unlock()
	if c.Sim != nil {
		c.Sim.Close()
		c.Sim = nil
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(c.simSock); err == nil {
			cl, err := simclient.Dial(c.simSock)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err = cl.ListVMs(ctx)
				cancel()
				if err == nil {
					c.Sim = cl
					return
				}
				cl.Close()
			}
		}
		if time.Now().After(deadline) || c.Simhost.Exited() {
			t.Fatalf("simhost does not answer; log tail:\n%s", tail(c.Simhost.LogPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SimClient returns the simulated host's current client (nil while it
// restarts).
func (c *Cluster) SimClient() *simclient.Client {
	c.simMu.Lock()
	defer c.simMu.Unlock()
	return c.Sim
}

// SimSocket is the simulated host's socket, for the hvm-simhost CLI.
func (c *Cluster) SimSocket() string { return c.simSock }

func (c *Cluster) stopAll() {
	for _, p := range []*Proc{c.Prv, c.Agent, c.Simhost, c.Hub} {
		if p != nil {
			p.Stop(10 * time.Second)
		}
	}
	if c.Sim != nil {
		c.Sim.Close()
	}
}

// Ctl runs hvmctl against the hub and fails the test on an error.
func (c *Cluster) Ctl(args ...string) string {
	c.T.Helper()
	out, err := c.TryCtl(args...)
	if err != nil {
		c.T.Fatalf("hvmctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// TryCtl runs hvmctl and returns its output and error.
func (c *Cluster) TryCtl(args ...string) (string, error) {
	return c.run(c.Bin.Ctl, append([]string{"--config", c.ctlConfig}, args...)...)
}

// CtlJSON runs hvmctl with -o json and decodes its output into v.
func (c *Cluster) CtlJSON(v any, args ...string) {
	c.T.Helper()
	out := c.Ctl(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.T.Fatalf("hvmctl %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// WaitFor polls cond until it holds or timeout passes.
func (c *Cluster) WaitFor(what string, timeout time.Duration, cond func() bool) {
	c.T.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			out, _ := c.TryCtl("status")
			c.T.Fatalf("timed out after %s waiting for %s; hvmctl status:\n%s", timeout, what, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
