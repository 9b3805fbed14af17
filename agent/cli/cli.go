// Package cli is the hvm-agent command line: the long-running service
// (serve), the disk and log tools operators use on a host, and version.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"hvmigrate/agent/internal/diskcmd"
	"hvmigrate/agent/internal/hrlcmd"
	"hvmigrate/shared/logging"
)

// Exit codes of hvm-agent.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// logFlags are the logging flags every subcommand shares.
type logFlags struct {
	level string
	json  bool
}

func (f *logFlags) logger(name string, out io.Writer) (hclog.Logger, error) {
	cfg := logging.DefaultConfig(name)
	cfg.Level, cfg.JSON, cfg.Output = f.level, f.json, out
	return logging.New(cfg)
}

// NewRootCommand builds the hvm-agent command tree.
func NewRootCommand() *cobra.Command {
	var lf logFlags
	root := &cobra.Command{
		Use:           "hvm-agent",
		Short:         "The hvmigrate replication agent: reads VM disks and logs and uploads them",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&lf.level, "log-level", "", "trace, debug, info, warn or error (default: $"+logging.LevelEnv+" or info)")
	root.PersistentFlags().BoolVar(&lf.json, "log-json", false, "log one JSON object per line")
	root.AddCommand(newServeCommand(&lf), newVersionCommand(), newCopyCommand(&lf), newThrottleCommand(),
		diskcmd.New(), hrlcmd.New())
	return root
}

// Main runs the command line with args and returns the process exit code.
// SIGINT and SIGTERM cancel the context, which stops a running service
// gracefully.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := NewRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "hvm-agent:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

// usageError marks errors in how the command was called.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
