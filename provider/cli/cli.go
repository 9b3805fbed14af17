// Package cli is the hvm-provider command line: the long-running service
// that drives the local agent (run), and version.
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

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/shared/logging"
)

// Exit codes of hvm-provider.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitMismatch = 3 // the agent speaks another protocol version
)

type logFlags struct {
	level string
	json  bool
}

func (f *logFlags) logger(name string, out io.Writer) (hclog.Logger, error) {
	cfg := logging.DefaultConfig(name)
	cfg.Level, cfg.JSON, cfg.Output = f.level, f.json, out
	return logging.New(cfg)
}

// NewRootCommand builds the hvm-provider command tree.
func NewRootCommand() *cobra.Command {
	var lf logFlags
	root := &cobra.Command{
		Use:           "hvm-provider",
		Short:         "The hvmigrate replication provider: drives replication of this host's VMs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&lf.level, "log-level", "", "trace, debug, info, warn or error (default: $"+logging.LevelEnv+" or info)")
	root.PersistentFlags().BoolVar(&lf.json, "log-json", false, "log one JSON object per line")
	root.AddCommand(newRunCommand(&lf), newVersionCommand(), newRegisterCommand(), newStatusCommand())
	return root
}

// Main runs the command line with args and returns the process exit code.
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
	fmt.Fprintln(stderr, "hvm-provider:", err)
	var ue usageError
	switch {
	case errors.Is(err, agentclient.ErrProtocolMismatch):
		return ExitMismatch
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitError
	}
}

type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }
