// Package cli is the hvm-agent command line: the long-running service
// (serve), the disk and log tools operators use on a host, and version.
package cli

import (
	"io"

	"github.com/spf13/cobra"

	"hvmigrate/agent/internal/diskcmd"
	"hvmigrate/agent/internal/hrlcmd"
	"hvmigrate/shared/cmdline"
)

// Exit codes of hvm-agent.
const (
	ExitOK    = cmdline.ExitOK
	ExitError = cmdline.ExitError
	ExitUsage = cmdline.ExitUsage
)

// NewRootCommand builds the hvm-agent command tree.
func NewRootCommand() *cobra.Command {
	var lf cmdline.LogFlags
	root := &cobra.Command{
		Use:           "hvm-agent",
		Short:         "The hvmigrate replication agent: reads VM disks and logs and uploads them",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	lf.Register(root)
	root.AddCommand(newServeCommand(&lf), newVersionCommand(), newCopyCommand(&lf), newThrottleCommand(),
		diskcmd.New(), hrlcmd.New())
	return root
}

// Main runs the command line with args and returns the process exit code.
// SIGINT and SIGTERM cancel the context, which stops a running service
// gracefully.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(), args, stdout, stderr, nil)
}

// usageError marks errors in how the command was called.
