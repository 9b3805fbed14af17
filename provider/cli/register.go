package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"hvmigrate/provider/internal/hubclient"
)

// newRegisterCommand builds `hvm-provider register --key FILE`: the host
// makes its own key pair, sends a CSR with the one-time registration key
// (trusting the hub only if its CA matches the fingerprint in the key
// file), and stores its certificate and key with mode 0600.
func newRegisterCommand() *cobra.Command {
	var keyFile, dir string
	cmd := &cobra.Command{
		Use:   "register --key FILE",
		Short: "Register this host with the hub using a one-time registration key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, err := hubclient.Register(cmd.Context(), keyFile, dir)
			if err != nil {
				return fmt.Errorf("register with %s: %w", keyFile, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "registered as host %s in project %s with hub %s; certificate valid until %s\n",
				id.HostID, id.ProjectID, id.Hub, id.NotAfter.Format("2006-01-02 15:04 MST"))
			return err
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "the registration key file from `hvmctl key create`")
	cmd.Flags().StringVar(&dir, "dir", defaultIdentityDir(), "where the host's certificate and key are kept")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}
