//go:build unix

package ipc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hvmigrate/shared/testenv"
)

// shortDir returns a private temporary directory with a short path, since
// unix socket paths are limited to about 100 bytes.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hvmipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestListen_createsPrivateDirAndSocket(t *testing.T) {
	sock := filepath.Join(shortDir(t), "run", "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	assertMode(t, filepath.Dir(sock), 0o700)
	assertMode(t, sock, 0o600)
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("ok"))
			c.Close()
		}
	}()
	c, err := Dial(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 2)
	if _, err := c.Read(buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v", buf, err)
	}
}

func TestListen_refusesDirWritableByOthers(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o720, 0o702, 0o1777} {
		dir := filepath.Join(shortDir(t), "run")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		l, err := Listen(filepath.Join(dir, "agent.sock"))
		if !errors.Is(err, ErrInsecureDir) {
			if l != nil {
				l.Close()
			}
			t.Fatalf("mode %v: err = %v, want ErrInsecureDir", mode, err)
		}
	}
}

func TestListen_tightensReadableDir(t *testing.T) {
	dir := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	l, err := Listen(filepath.Join(dir, "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	assertMode(t, dir, 0o700)
}

func TestListen_refusesSymlinkedDir(t *testing.T) {
	base := shortDir(t)
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "run")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(filepath.Join(link, "agent.sock")); !errors.Is(err, ErrInsecureDir) {
		t.Fatalf("err = %v, want ErrInsecureDir", err)
	}
}

func TestListen_refusesDirOwnedByOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root to give a directory to another user")
	}
	dir := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(filepath.Join(dir, "agent.sock")); !errors.Is(err, ErrInsecureDir) {
		t.Fatalf("err = %v, want ErrInsecureDir", err)
	}
}

func TestListen_removesStaleSocket(t *testing.T) {
	sock := filepath.Join(shortDir(t), "run", "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	// Leave the socket file behind, as a killed process would.
	l.(*peerCheckListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	l2, err := Listen(sock)
	if err != nil {
		t.Fatalf("listen over stale socket: %v", err)
	}
	l2.Close()
}

func TestListen_refusesLiveSocket(t *testing.T) {
	sock := filepath.Join(shortDir(t), "run", "agent.sock")
	l, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if l2, err := Listen(sock); !errors.Is(err, ErrInUse) {
		if l2 != nil {
			l2.Close()
		}
		t.Fatalf("err = %v, want ErrInUse", err)
	}
}

func TestListen_refusesNonSocketAtPath(t *testing.T) {
	dir := filepath.Join(shortDir(t), "run")
	os.Mkdir(dir, 0o700)
	sock := filepath.Join(dir, "agent.sock")
	if err := os.WriteFile(sock, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(sock); !errors.Is(err, ErrNotSocket) {
		t.Fatalf("err = %v, want ErrNotSocket", err)
	}
	if b, _ := os.ReadFile(sock); string(b) != "precious" {
		t.Fatal("the file at the socket path was touched")
	}
}

func TestDial_noListener(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := Dial(ctx, filepath.Join(shortDir(t), "none.sock"))
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Fatalf("err = %v, want a net.OpError", err)
	}
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Fatalf("%s has mode %v, want %v", path, got, want)
	}
}
