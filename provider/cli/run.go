package cli

import (
	"github.com/spf13/cobra"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/version"
)

func newRunCommand(lf *logFlags) *cobra.Command {
	cfg := agentclient.DefaultLinkConfig(ipc.DefaultAgentEndpoint())
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the provider service: keep the link to the local agent up",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger("hvm-provider", cmd.ErrOrStderr())
			if err != nil {
				return usageError{err}
			}
			log.Info("provider starting", "version", version.Release(), "agent_endpoint", cfg.Endpoint)
			err = agentclient.NewLink(cfg, log.Named("agent")).Run(cmd.Context())
			if err == nil {
				log.Info("provider stopped")
			}
			return err
		},
	}
	cmd.Flags().StringVar(&cfg.Endpoint, "agent", cfg.Endpoint, "the agent's socket path (Linux) or pipe name (Windows)")
	cmd.Flags().DurationVar(&cfg.MaxBackoff, "agent-max-backoff", cfg.MaxBackoff, "longest wait between attempts to reach the agent")
	cmd.Flags().Uint32Var(&cfg.Protocol, "agent-protocol", cfg.Protocol, "agent protocol version to offer (compatibility testing only)")
	_ = cmd.Flags().MarkHidden("agent-protocol")
	return cmd
}
