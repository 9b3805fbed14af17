package cli

import (
	"hvmigrate/provider/internal/host/hyperv"

	"github.com/spf13/cobra"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/hublink"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/version"
)

func newRunCommand(lf *cmdline.LogFlags) *cobra.Command {
	cfg := agentclient.DefaultLinkConfig(ipc.DefaultAgentEndpoint())
	hub := hubOptions{link: hublink.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the provider service: keep the link to the local agent up and, with --identity, replicate as the hub commands",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.Logger("hvm-provider", cmd.ErrOrStderr())
			if err != nil {
				return cmdline.Usage(err)
			}
			if hub.enabled() {
				if err := hub.check(); err != nil {
					return cmdline.Usage(err)
				}
			}
			log.Info("provider starting", "version", version.Release(), "agent_endpoint", cfg.Endpoint)
			if hub.enabled() {
				err = runHubMode(cmd.Context(), hub, cfg, log)
			} else {
				err = agentclient.NewLink(cfg, log.Named("agent")).Run(cmd.Context())
			}
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
	addHubFlags(cmd, &hub)
	return cmd
}

// addHubFlags declares the flags of hub mode.
func addHubFlags(cmd *cobra.Command, o *hubOptions) {
	f := cmd.Flags()
	f.StringVar(&o.identity, "identity", "", "the host identity `register` stored; turns on replication driven by the hub")
	f.StringVar(&o.simhost, "simhost", "", "the hvm-simhost socket to use as the host backend (default on Windows: Hyper-V)")
	o.hyperv = hyperv.DefaultConfig()
	f.StringVar(&o.hyperv.ReplicationProvider, "hyperv-replication-provider", "", "the CLSID of the registered Msvm_ReplicationProvider that receives closed logs (Hyper-V backend)")
	f.DurationVar(&o.hyperv.ReplicationInterval, "hyperv-replication-interval", o.hyperv.ReplicationInterval, "Hyper-V Replica's log switch period: 30s, 5m or 15m (Hyper-V backend)")
	f.StringVar(&o.state, "state", "", "the provider's replication state file")
	f.DurationVar(&o.link.GrantWait, "grant-wait", o.link.GrantWait, "how long an upload waits for a SAS grant the hub has not sent yet")
	f.DurationVar(&o.link.InventoryEvery, "inventory-every", o.link.InventoryEvery, "how often the host's VM list goes to the hub")
	f.DurationVar(&o.link.IntervalCap, "interval-cap", 0, "shorten every replication interval to at most this (testing only)")
	_ = f.MarkHidden("interval-cap")
}
