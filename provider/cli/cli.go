// Package cli is the hvm-provider command line: the long-running service
// that drives the local agent (run), and version.
package cli

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/shared/cmdline"
)

// Exit codes of hvm-provider.
const (
	ExitOK       = cmdline.ExitOK
	ExitError    = cmdline.ExitError
	ExitUsage    = cmdline.ExitUsage
	ExitMismatch = 3 // the agent speaks another protocol version
)

// NewRootCommand builds the hvm-provider command tree.
func NewRootCommand() *cobra.Command {
	var lf cmdline.LogFlags
	root := &cobra.Command{
		Use:           "hvm-provider",
		Short:         "The hvmigrate replication provider: drives replication of this host's VMs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	lf.Register(root)
	root.AddCommand(newRunCommand(&lf), newVersionCommand(), newRegisterCommand(), newStatusCommand())
	return root
}

// Main runs the command line with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(), args, stdout, stderr, classify)
}

// classify gives a protocol mismatch with the agent its own exit code: it
// needs an operator, not a restart.
func classify(err error) int {
	if errors.Is(err, agentclient.ErrProtocolMismatch) {
		return ExitMismatch
	}
	return 0
}
