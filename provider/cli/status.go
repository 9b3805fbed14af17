package cli

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"hvmigrate/provider/internal/replication/status"
	"hvmigrate/shared/cmdline"
)

// newStatusCommand builds `hvm-provider status`: the local view of
// replication, read from the provider's state store.
func newStatusCommand() *cobra.Command {
	var path string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show this host's replicated VMs: phase, progress, last cycle, RPO and pending logs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return cmdline.Usage(errors.New("--store is required"))
			}
			states, err := status.Load(path, wait)
			if err != nil {
				return err
			}
			return status.Render(cmd.OutOrStdout(), states, time.Now())
		},
	}
	cmd.Flags().StringVar(&path, "store", "", "the provider's replication state file")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Second, "how long to wait for the store's lock")
	return cmd
}
