// Package ipc is the local wire between the replication provider and the
// replication agent on one host: a unix socket on Linux and a named pipe on
// Windows. Nothing else may listen for the agent; it has no network port.
//
// On Linux the socket lives in a directory that the service owns with mode
// 0700, and the socket itself has mode 0600. Listen refuses a directory that
// someone else owns or that others can write to, removes a stale socket only
// after checking that it is a socket owned by the caller that nobody answers
// on, and refuses to take over a live one. Accepted connections are checked
// with SO_PEERCRED: only the same user or root may talk to the agent.
//
// On Windows the pipe carries an ACL that grants access to SYSTEM and the
// Administrators group only, rejects remote clients, and fails if another
// process already owns the pipe name (squatting). The Windows code is
// compiled in CI but has not been run on Windows.
package ipc

import "errors"

var (
	// ErrInsecureDir means the socket directory is not private to the service.
	ErrInsecureDir = errors.New("socket directory is not private")
	// ErrInUse means another process is already serving the endpoint.
	ErrInUse = errors.New("endpoint is in use by a running process")
	// ErrNotSocket means something other than a socket sits at the socket path.
	ErrNotSocket = errors.New("path exists and is not a socket")
	// ErrPeerRefused means a connecting process is not allowed on the wire.
	ErrPeerRefused = errors.New("peer is not allowed")
)
