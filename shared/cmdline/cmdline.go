// Package cmdline holds what every hvmigrate command line shares: running
// a cobra command tree with SIGINT and SIGTERM cancelling its context,
// mapping its error to an exit code, and the logging flags.
package cmdline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"hvmigrate/shared/logging"
)

// Exit codes every command shares; a command may add its own above them.
const (
	ExitOK    = 0
	ExitError = 1
	ExitUsage = 2
)

// UsageError marks an error in how the command was called.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap exposes the cause.
func (e UsageError) Unwrap() error { return e.Err }

// Usage marks err as an error in how the command was called (exit 2).
func Usage(err error) error { return UsageError{Err: err} }

// Run executes root with args until it returns or a signal cancels its
// context, prints a failure as "NAME: error" on stderr, and returns the
// exit code: classify's answer when it gives one (non-zero), else 2 for a
// usage error and 1 for any other. classify may be nil. Started by the
// Windows service control manager, a stop request cancels the context.
func Run(root *cobra.Command, args []string, stdout, stderr io.Writer, classify func(error) int) int {
	run := func(ctx context.Context) int { return execute(ctx, root, args, stdout, stderr, classify) }
	if code, ok := runAsService(root.Name(), run); ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx)
}

func execute(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer, classify func(error) int) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, root.Name()+":", err)
	if classify != nil {
		if code := classify(err); code != 0 {
			return code
		}
	}
	var ue UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

// LogFlags are the logging flags a command tree shares.
type LogFlags struct {
	Level string
	JSON  bool
}

// Register adds --log-level and --log-json to cmd's persistent flags.
func (f *LogFlags) Register(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&f.Level, "log-level", "", "trace, debug, info, warn or error (default: $"+logging.LevelEnv+" or info)")
	cmd.PersistentFlags().BoolVar(&f.JSON, "log-json", false, "log one JSON object per line")
}

// Logger returns the logger the flags ask for, named name, writing to out;
// an unknown level is a usage error.
func (f *LogFlags) Logger(name string, out io.Writer) (hclog.Logger, error) {
	cfg := logging.DefaultConfig(name)
	cfg.Level, cfg.JSON, cfg.Output = f.Level, f.JSON, out
	l, err := logging.New(cfg)
	if err != nil {
		return nil, Usage(err)
	}
	return l, nil
}
