package cli

import (
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/server"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/logging"
)

func newServeCommand(g *globals) *cobra.Command {
	var dir string
	var noChecksums, noSync bool
	var keepThrough uint64
	cmd := &cobra.Command{
		Use:   "serve --dir DIR [--listen SOCKET]",
		Short: "Run the daemon: own the VMs under DIR and serve them on a local socket",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cmdline.Usage(fmt.Errorf("--dir is required: the directory that holds the VMs"))
			}
			log, err := g.logger(cmd)
			if err != nil {
				return cmdline.Usage(err)
			}
			cfg := simhost.DefaultConfig(dir)
			cfg.Logger, cfg.ChecksumOnSwitch, cfg.SyncLogs = log.Named("daemon"), !noChecksums, !noSync
			cfg.KeepThrough = keepThrough
			return serve(cmd, cfg, g.socket, log)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory of the VMs (created if missing)")
	cmd.Flags().StringVar(&g.socket, "listen", defaultSocket(), "socket to serve on (its directory is made private)")
	cmd.Flags().BoolVar(&noChecksums, "no-switch-checksums", false, "do not hash the disks at each log switch (for very large disks)")
	cmd.Flags().BoolVar(&noSync, "no-sync-logs", false, "do not fsync change tracking logs as blocks are sealed")
	cmd.Flags().Uint64Var(&keepThrough, "keep-switch-logs", 0, "keep a raw copy of each checkpoint's frozen disks and copies of the logs of each VM's switches 1..N, for tests")
	return cmd
}

func (g *globals) logger(cmd *cobra.Command) (hclog.Logger, error) {
	cfg := logging.DefaultConfig("hvm-simhost")
	cfg.Level, cfg.JSON, cfg.Output = g.logLevel, g.logJSON, cmd.ErrOrStderr()
	return logging.New(cfg)
}

// serve opens the daemon, serves it until the context ends, then stops:
// the daemon first (which ends running workloads), then the server.
func serve(cmd *cobra.Command, cfg simhost.Config, socket string, log hclog.Logger) error {
	d, err := simhost.Open(cfg)
	if err != nil {
		return err
	}
	lis, err := ipc.Listen(socket)
	if err != nil {
		d.Close()
		return fmt.Errorf("listen on %s: %w", socket, err)
	}
	gs := server.NewGRPCServer(server.New(d))
	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(lis) }()
	reportResync(d, log)
	log.Info("simhost serving", "socket", socket, "dir", cfg.Dir)
	select {
	case <-cmd.Context().Done():
	case err = <-errc:
	}
	log.Info("simhost stopping")
	cerr := d.Close()
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		gs.Stop()
	}
	if err == nil {
		err = cerr
	}
	log.Info("simhost stopped")
	return err
}

// reportResync logs every VM that needs a resync.
func reportResync(d *simhost.Daemon, log hclog.Logger) {
	vms, err := d.ListVMs()
	if err != nil {
		return
	}
	for _, vm := range vms {
		if vm.NeedsResync {
			log.Warn("vm needs a resync", "vm_id", vm.ID, "name", vm.Name, "reason", vm.ResyncReason)
		}
	}
}
