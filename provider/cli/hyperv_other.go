//go:build !windows

package cli

import (
	"errors"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/host/hyperv"
)

// openHyperV fails: Hyper-V is reached through WMI, on Windows only.
func openHyperV(hyperv.Config, hclog.Logger) (hostBackend, error) {
	return nil, errors.New("the Hyper-V backend runs on Windows only; give --simhost")
}
