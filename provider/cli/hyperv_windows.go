//go:build windows

package cli

import (
	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/host/hyperv"
)

// openHyperV connects to the local Hyper-V WMI provider.
func openHyperV(cfg hyperv.Config, log hclog.Logger) (hostBackend, error) {
	return hyperv.New(cfg, log)
}
