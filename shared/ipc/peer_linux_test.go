package ipc

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"hvmigrate/shared/testenv"
)

// dialerSource connects to the socket named by its argument and prints what
// the server sent, or "closed" if the server hung up without a word.
const dialerSource = `package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("unix", os.Args[1])
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	b, err := io.ReadAll(c)
	if len(b) == 0 {
		fmt.Println("closed", err)
		return
	}
	fmt.Println(string(b))
}
`

// TestAccept_refusesOtherUsers connects as an unprivileged user to a socket
// that the file system would let it reach, and checks that the peer check
// hangs up on it while the owner's own connections are served.
func TestAccept_refusesOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root to run a client as another user")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Skip(t, "needs the go command to build the client")
	}
	dir := shortDir(t)
	os.Chmod(dir, 0o755)
	src := filepath.Join(dir, "main.go")
	bin := filepath.Join(dir, "dialer")
	if err := os.WriteFile(src, []byte(dialerSource), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command(goTool, "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GO111MODULE=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build client: %v\n%s", err, out)
	}
	os.Chmod(bin, 0o755)

	sock := filepath.Join(dir, "open.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(sock, 0o666)
	l := &peerCheckListener{UnixListener: ul, uid: os.Geteuid()}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("welcome"))
			c.Close()
		}
	}()

	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin, sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(nil); got != "welcome" {
		t.Fatalf("owner's connection: got %q, want welcome", got)
	}
	if got := run(&syscall.Credential{Uid: 65534, Gid: 65534}); !strings.HasPrefix(got, "closed") {
		t.Fatalf("other user's connection: got %q, want it closed unanswered", got)
	}
}
