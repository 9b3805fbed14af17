//go:build linux

package ctl

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"hvmigrate/shared/testenv"
)

// openPTY opens a pseudo-terminal pair through /dev/ptmx: it unlocks the
// secondary side, finds its number and opens it, and gives it a size.
func openPTY(t *testing.T) (primary, secondary *os.File) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		testenv.Skip(t, "no pseudo-terminals here: "+err.Error())
	}
	primary = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		primary.Close()
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		primary.Close()
		t.Fatalf("pty number: %v", err)
	}
	secondary, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		primary.Close()
		t.Fatalf("open pty %d: %v", n, err)
	}
	ws := &unix.Winsize{Row: 40, Col: 160}
	if err := unix.IoctlSetWinsize(int(secondary.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	t.Cleanup(func() { secondary.Close(); primary.Close() })
	return primary, secondary
}
