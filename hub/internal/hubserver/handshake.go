package hubserver

import (
	"errors"
	"io"
	"net"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/credentials"
)

// loggedHandshakes logs every provider connection refused in the TLS
// handshake (a client certificate the project CA did not sign, or that is
// not a host's), naming the peer and the reason: such a refusal never
// reaches the interceptors, and gRPC itself reports it nowhere by default.
type loggedHandshakes struct {
	credentials.TransportCredentials
	log hclog.Logger
}

func logHandshakes(c credentials.TransportCredentials, log hclog.Logger) credentials.TransportCredentials {
	return loggedHandshakes{TransportCredentials: c, log: log}
}

// ServerHandshake implements credentials.TransportCredentials.
func (l loggedHandshakes) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := l.TransportCredentials.ServerHandshake(raw)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		l.log.Debug("provider connection closed during the TLS handshake", "remote", raw.RemoteAddr().String(), "error", err)
	default:
		l.log.Warn("provider connection refused in the TLS handshake", "remote", raw.RemoteAddr().String(), "error", err)
	}
	return conn, info, err
}

// Clone implements credentials.TransportCredentials.
func (l loggedHandshakes) Clone() credentials.TransportCredentials {
	return loggedHandshakes{TransportCredentials: l.TransportCredentials.Clone(), log: l.log}
}
