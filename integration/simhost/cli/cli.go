// Package cli is the hvm-simhost command line: the daemon (serve) and the
// commands people and scripts use to drive it (vm, write, workload,
// checkpoint, tracking, switch, checksum).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost/client"
	"hvmigrate/shared/cmdline"
)

// Exit codes of hvm-simhost.
const (
	ExitOK    = cmdline.ExitOK
	ExitError = cmdline.ExitError
	ExitUsage = cmdline.ExitUsage
)

// SocketEnv overrides the default socket path.
const SocketEnv = "HVM_SIMHOST_SOCKET"

// globals are the flags every command shares.
type globals struct {
	socket   string
	output   string
	logLevel string
	logJSON  bool
}

// Main runs the command line with args and returns the exit code. SIGINT
// and SIGTERM cancel the context: a running daemon stops gracefully and a
// running workload ends.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(), args, stdout, stderr, nil)
}

// NewRootCommand builds the hvm-simhost command tree.
func NewRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "hvm-simhost",
		Short:         "A Hyper-V stand-in: VMs with real VHDX disks, checkpoints and HRL change tracking",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdline.Usage(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&g.socket, "socket", defaultSocket(), "the daemon's socket (env "+SocketEnv+")")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	pf.StringVar(&g.logLevel, "log-level", "", "trace, debug, info, warn or error")
	pf.BoolVar(&g.logJSON, "log-json", false, "log one JSON object per line")
	root.AddCommand(newServeCommand(g), newVMCommand(g), newWriteCommand(g), newWorkloadCommand(g),
		newChecksumCommand(g), newCheckpointCommand(g), newTrackingCommand(g), newSwitchCommand(g), newImportCommand(g))
	return root
}

// defaultSocket is $HVM_SIMHOST_SOCKET, else a per-user path under the
// runtime or temporary directory.
func defaultSocket() string {
	if s := os.Getenv(SocketEnv); s != "" {
		return s
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "hvm-simhost", "simhost.sock")
	}
	return filepath.Join(os.TempDir(), "hvm-simhost-"+strconv.Itoa(os.Getuid()), "simhost.sock")
}

// usageError marks errors in how the command was called.

// dial connects to the daemon.
func (g *globals) dial() (*client.Client, error) {
	if g.output != "text" && g.output != "json" {
		return nil, cmdline.Usage(fmt.Errorf("--output %q: want text or json", g.output))
	}
	return client.Dial(g.socket)
}

// explain adds what to do next to errors that need it.
func (g *globals) explain(err error) error {
	if errors.Is(err, client.ErrUnavailable) {
		return fmt.Errorf("%w\nno daemon answers at %s: start one with `hvm-simhost serve --dir DIR --listen %s`, or point --socket (or $%s) at it",
			err, g.socket, g.socket, SocketEnv)
	}
	return err
}

// run dials, calls fn with a client and explains its error.
func (g *globals) run(cmd *cobra.Command, fn func(context.Context, *client.Client) error) error {
	c, err := g.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return g.explain(fn(cmd.Context(), c))
}

// emit prints v as JSON with -o json, else calls text.
func (g *globals) emit(w io.Writer, v any, text func()) error {
	if g.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text()
	return nil
}
