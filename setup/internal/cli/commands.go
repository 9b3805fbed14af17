package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"hvmigrate/setup/internal/config"
	"hvmigrate/setup/internal/installer"
	"hvmigrate/setup/internal/layout"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/version"
)

func newInstallCommand(g *globals, d Deps) *cobra.Command {
	o := installer.InstallOptions{Config: config.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install (or re-install) the provider and agent as services, write their configuration and, with --key, register the host",
		Long: `Install the provider and the agent this installer carries, create the service
user, directories and configuration, install and enable the services, and with
--key register the host with the hub. Running it again replaces binaries and
service definitions but keeps configuration (unless --reconfigure), identity
and state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := g.installer(cmd, d)
			if err != nil {
				return err
			}
			if err := o.Config.Validate(); err != nil {
				return cmdline.Usage(err)
			}
			return in.Install(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.KeyFile, "key", "", "register the host with this key file from `hvmctl key create` (skipped when already registered)")
	f.StringVar(&o.Config.StorageEndpoint, "storage-endpoint", "", "the storage account endpoint the agent may upload to, e.g. https://account.blob.core.windows.net")
	f.StringVar(&o.StorageCAFile, "storage-ca", "", "PEM file of CA certificates the agent trusts for storage instead of the system's (emulators); copied into the configuration")
	f.StringVar(&o.Config.Simhost, "simhost", "", "the hvm-simhost socket the provider uses as its host backend")
	f.StringVar(&o.Config.LogLevel, "service-log-level", o.Config.LogLevel, "the services' log level")
	f.BoolVar(&o.Reconfigure, "reconfigure", false, "rewrite existing configuration from these flags")
	return cmd
}

func newUpgradeCommand(g *globals, d Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "upgrade",
		Short: "Replace the installed binaries with this installer's and restart the services; configuration, identity and state are kept",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := g.installer(cmd, d)
			if err != nil {
				return err
			}
			return in.Upgrade(cmd.Context())
		},
	}
}

func newUninstallCommand(g *globals, d Deps) *cobra.Command {
	var purge bool
	cmd := &cobra.Command{
		Use:   "uninstall",
		Short: "Stop and remove the services and binaries; configuration, identity and state are kept unless --purge",
		Long: `Stop and remove the services and binaries. Configuration, the host's identity
and the replication state stay unless --purge. Nothing on the hub or in storage
is touched: revoke the host there with hvmctl host revoke.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := g.installer(cmd, d)
			if err != nil {
				return err
			}
			return in.Uninstall(cmd.Context(), purge)
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "also remove configuration, identity and state (and the service user if hvm-setup created it)")
	return cmd
}

func newStatusCommand(g *globals, d Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show what is installed: binaries, services, configuration, registration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := g.installer(cmd, d)
			if err != nil {
				return err
			}
			return in.Status(cmd.Context())
		},
	}
}

func newRegisterCommand(g *globals, d Deps) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "register --key FILE",
		Short: "Register the host with the installed provider and restart it (for installs from a package)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := g.installer(cmd, d)
			if err != nil {
				return err
			}
			return in.Register(cmd.Context(), key)
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the registration key file from `hvmctl key create`")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newVersionCommand(d Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the installer's version and whether it carries the binaries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			carries := "carries hvm-provider and hvm-agent"
			if err := d.Payload.Check(layout.BinaryFile(layout.Provider), layout.BinaryFile(layout.Agent)); err != nil {
				carries = "carries no payload"
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hvm-setup %s (%s, %s %s/%s)\n",
				version.Release(), carries, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
