//go:build windows

package hyperv

import (
	"fmt"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/host"
)

var (
	_ host.Backend = (*Backend)(nil)
	_ wmiHost      = (*wmiConn)(nil)
)

// New connects to the local Hyper-V WMI provider (root\virtualization\v2)
// and returns the backend. Close releases the connection.
func New(cfg Config, logger hclog.Logger) (*Backend, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	conn, err := dialWMI()
	if err != nil {
		return nil, fmt.Errorf("hyperv: %w", classify(err))
	}
	b, err := newBackend(conn, cfg, logger)
	if err != nil {
		_ = conn.close()
		return nil, err
	}
	return b, nil
}
