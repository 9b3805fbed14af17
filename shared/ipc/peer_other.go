//go:build unix && !linux

package ipc

import "net"

// peerCheckListener relies on the private directory alone on Unix systems
// without SO_PEERCRED.
type peerCheckListener struct {
	*net.UnixListener
	uid int
}
