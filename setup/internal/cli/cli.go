// Package cli is the hvm-setup command line: install, upgrade, uninstall,
// status and register an hvmigrate host installation.
package cli

import (
	"io"

	"github.com/spf13/cobra"

	"hvmigrate/setup/internal/installer"
	"hvmigrate/setup/internal/layout"
	"hvmigrate/setup/internal/payload"
	"hvmigrate/setup/internal/system"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/version"
)

// Deps are what the commands install from and run with.
type Deps struct {
	Payload payload.Payload
	// Run runs commands on the live system (useradd, systemctl, the
	// provider's register); nil means system.Exec.
	Run system.Runner
}

// globals are the flags every command shares.
type globals struct {
	log  cmdline.LogFlags
	root string
}

// NewRootCommand builds the hvm-setup command tree.
func NewRootCommand(d Deps) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "hvm-setup",
		Short:         "Install the hvmigrate provider and agent on this host as services",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	g.log.Register(root)
	root.PersistentFlags().StringVar(&g.root, "root", "/",
		"install under this directory instead of the running system: no user is created and no service manager is called (tests, image builds)")
	root.AddCommand(newInstallCommand(g, d), newUpgradeCommand(g, d), newUninstallCommand(g, d),
		newStatusCommand(g, d), newRegisterCommand(g, d), newVersionCommand(d))
	return root
}

// Main runs the command line with the embedded payload and returns the
// process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	return cmdline.Run(NewRootCommand(Deps{Payload: payload.Embedded()}), args, stdout, stderr, nil)
}

// installer builds the Installer the flags of cmd ask for.
func (g *globals) installer(cmd *cobra.Command, d Deps) (*installer.Installer, error) {
	log, err := g.log.Logger("hvm-setup", cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	l := layout.New(g.root)
	run := d.Run
	if run == nil {
		run = system.Exec
	}
	return installer.New(installer.Config{
		Layout:   l,
		Payload:  d.Payload,
		Platform: system.New(system.Config{Layout: l, Run: run, Log: log.Named("system")}),
		Run:      run,
		Log:      log,
		Out:      cmd.OutOrStdout(),
		Release:  version.Release(),
	}), nil
}
