package ipc

import (
	"context"
	"fmt"
	"net"

	"github.com/Microsoft/go-winio"
)

// pipeSDDL grants full access to SYSTEM and the built-in Administrators
// group only; the protected DACL ignores inherited entries.
const pipeSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

// DefaultAgentEndpoint is the agent's named pipe unless configured otherwise.
func DefaultAgentEndpoint() string { return `\\.\pipe\hvmigrate-agent` }

// Listen creates the named pipe endpoint with an ACL limited to SYSTEM and
// Administrators. It fails if another process already owns the name, and
// remote clients are rejected.
func Listen(endpoint string) (net.Listener, error) {
	l, err := winio.ListenPipe(endpoint, &winio.PipeConfig{SecurityDescriptor: pipeSDDL})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", endpoint, err)
	}
	return l, nil
}

// Dial connects to the named pipe endpoint.
func Dial(ctx context.Context, endpoint string) (net.Conn, error) {
	c, err := winio.DialPipeContext(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", endpoint, err)
	}
	return c, nil
}
