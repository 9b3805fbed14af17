//go:build unix

package ipc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DefaultAgentEndpoint is where the agent listens unless configured otherwise.
func DefaultAgentEndpoint() string { return "/run/hvmigrate/agent.sock" }

// Listen creates the socket at endpoint, a filesystem path, after making sure
// its directory is private. The directory is created (mode 0700) if missing;
// its parent must exist.
func Listen(endpoint string) (net.Listener, error) {
	dir := filepath.Dir(endpoint)
	if err := ensurePrivateDir(dir); err != nil {
		return nil, err
	}
	if err := removeStale(endpoint); err != nil {
		return nil, err
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: endpoint, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", endpoint, err)
	}
	// The directory is private, so nobody can reach the socket before this.
	if err := os.Chmod(endpoint, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("set mode of %s: %w", endpoint, err)
	}
	l.SetUnlinkOnClose(true)
	return &peerCheckListener{UnixListener: l, uid: os.Geteuid()}, nil
}

// Dial connects to the socket at endpoint.
func Dial(ctx context.Context, endpoint string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", endpoint)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", endpoint, err)
	}
	return c, nil
}

// ensurePrivateDir creates dir with mode 0700 or checks that an existing one
// is a real directory owned by this user that nobody else can write to. A
// directory that others can only read is tightened to 0700.
func ensurePrivateDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create socket directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("inspect socket directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is not a directory (mode %v)", ErrInsecureDir, dir, fi.Mode())
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("inspect socket directory %s: no owner information", dir)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this service (uid %d)", ErrInsecureDir, dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s has mode %v: others can write to it; make it 0700", ErrInsecureDir, dir, fi.Mode().Perm())
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("tighten socket directory %s to 0700: %w", dir, err)
		}
	}
	return nil
}

// removeStale removes a socket left behind by a process that died, but only
// if it is a socket owned by this user and nothing answers on it.
func removeStale(endpoint string) error {
	fi, err := os.Lstat(endpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", endpoint, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s (mode %v); remove it by hand if it is not needed", ErrNotSocket, endpoint, fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to another user", ErrInsecureDir, endpoint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if c, err := Dial(ctx, endpoint); err == nil {
		c.Close()
		return fmt.Errorf("%w: %s", ErrInUse, endpoint)
	}
	if err := os.Remove(endpoint); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket %s: %w", endpoint, err)
	}
	return nil
}
