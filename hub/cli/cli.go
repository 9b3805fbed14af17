// Package cli is the hvm-hub command line: init lays out a hub directory,
// serve runs the hub, version prints the build.
package cli

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"hvmigrate/hub/internal/hubserver"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/version"
)

// Exit codes of hvm-hub.
const (
	ExitOK    = cmdline.ExitOK
	ExitError = cmdline.ExitError
	ExitUsage = cmdline.ExitUsage
)

// NewRootCommand builds the hvm-hub command tree.
func NewRootCommand() *cobra.Command {
	var lf cmdline.LogFlags
	root := &cobra.Command{
		Use:           "hvm-hub",
		Short:         "The hvmigrate hub: projects, host identities and the provider stream",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	lf.Register(root)
	root.AddCommand(newInitCommand(), newServeCommand(&lf), newStorageCommand(), newVersionCommand())
	return root
}

// Main runs the command line with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(), args, stdout, stderr, nil)
}

func newInitCommand() *cobra.Command {
	cfg := hubserver.DefaultConfig()
	var dir string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a hub directory: state database, CAs, certificates, admin credential, config",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cmdline.Usage(errors.New("--dir is required"))
			}
			if err := hubserver.Init(cmd.Context(), dir, cfg); err != nil {
				return err
			}
			return printInit(cmd.OutOrStdout(), dir, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the hub directory to create (required)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "where providers connect (registration and stream)")
	f.StringVar(&cfg.AdminListen, "admin-listen", cfg.AdminListen, "where hvmctl connects")
	f.StringVar(&cfg.PublicAddress, "public-address", cfg.PublicAddress, "host:port at which hosts reach --listen; written into key files and the server certificate")
	f.DurationVar((*time.Duration)(&cfg.CertLifetime), "cert-lifetime", time.Duration(cfg.CertLifetime), "lifetime of host certificates (hosts renew before expiry)")
	f.DurationVar((*time.Duration)(&cfg.HeartbeatInterval), "heartbeat-interval", time.Duration(cfg.HeartbeatInterval), "how often hub and hosts exchange heartbeats")
	f.DurationVar((*time.Duration)(&cfg.DeadPeerTimeout), "dead-peer-timeout", time.Duration(cfg.DeadPeerTimeout), "drop a host's stream after this long without a message")
	return cmd
}

func printInit(w io.Writer, dir string, cfg hubserver.Config) error {
	fp, err := hubserver.CAFingerprint(dir)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `hub created in %s
  provider listener  %s (hosts reach it as %s)
  admin listener     %s
  hub CA             %s
  admin credential   %s (keep it secret)
hvmctl reads %s when HVMCTL_CONFIG points at it, or copy it to the hvmctl
config path (see "hvmctl --help"). Start the hub with: hvm-hub serve --dir %s
`, dir, cfg.Listen, cfg.PublicAddress, cfg.AdminListen, fp, hubserver.AdminCredFile, hubserver.CtlConfigFile, dir)
	return err
}

func newServeCommand(lf *cmdline.LogFlags) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub until SIGTERM or SIGINT",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return cmdline.Usage(errors.New("--dir is required"))
			}
			log, err := lf.Logger("hvm-hub", cmd.ErrOrStderr())
			if err != nil {
				return cmdline.Usage(err)
			}
			log.Info("hub starting", "version", version.Release(), "dir", dir)
			h, err := hubserver.Open(cmd.Context(), dir, nil, log)
			if err != nil {
				return err
			}
			err = h.Serve(cmd.Context())
			if err == nil {
				log.Info("hub stopped")
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the hub directory made by init (required)")
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the hub's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hvm-hub %s (%s %s/%s)\n", version.Release(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
