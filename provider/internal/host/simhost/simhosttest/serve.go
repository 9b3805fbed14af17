// Package simhosttest runs an in-process hvm-simhost daemon behind its gRPC
// server on a private socket, for tests of the provider.
package simhosttest

import (
	"os"
	"path/filepath"
	"testing"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/integration/simhost/server"
	"hvmigrate/shared/ipc"
)

// Daemon is a running daemon and a client of it.
type Daemon struct {
	Client *client.Client
	Socket string
	Dir    string
	stop   func()
}

// Stop stops the server and closes the daemon; Start's cleanup does it
// too, so calling it is only needed to test an unreachable host.
func (d *Daemon) Stop() { d.stop() }

// Start runs a daemon whose VMs live under a temporary directory, with
// unsynced logs and 1 MiB blocks to keep tests fast.
func Start(t testing.TB) *Daemon {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "vms")
	cfg := simhost.DefaultConfig(dir)
	cfg.SyncLogs, cfg.BlockSize = false, 1<<20
	d, err := simhost.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Socket paths are short-lived and must fit the platform limit.
	sockDir, err := os.MkdirTemp("", "simhost")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sockDir, "run", "simhost.sock")
	lis, err := ipc.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	g := server.NewGRPCServer(server.New(d))
	go g.Serve(lis)
	c, err := client.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		c.Close()
		g.Stop()
		d.Close()
		os.RemoveAll(sockDir)
	}
	t.Cleanup(stop)
	return &Daemon{Client: c, Socket: sock, Dir: dir, stop: stop}
}
