package ipc

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// peerCheckListener accepts only connections from the same user or root.
type peerCheckListener struct {
	*net.UnixListener
	uid int
}

// Accept returns the next connection from an allowed peer. Connections from
// other users are closed and skipped; they never reach the server.
func (l *peerCheckListener) Accept() (net.Conn, error) {
	for {
		c, err := l.UnixListener.AcceptUnix()
		if err != nil {
			return nil, err
		}
		if err := checkPeer(c, l.uid); err != nil {
			c.Close()
			continue
		}
		return c, nil
	}
}

func checkPeer(c *net.UnixConn, uid int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return fmt.Errorf("peer credentials: %w", credErr)
	}
	if int(cred.Uid) != uid && cred.Uid != 0 {
		return fmt.Errorf("%w: uid %d (pid %d)", ErrPeerRefused, cred.Uid, cred.Pid)
	}
	return nil
}
