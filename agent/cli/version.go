package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"hvmigrate/shared/version"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the agent's version and the wire protocol it speaks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hvm-agent %s (agent protocol %d..%d, %s %s/%s)\n",
				version.Release(), version.MinAgentProtocol, version.AgentProtocol,
				runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
