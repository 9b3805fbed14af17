package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hvmigrate/hub/internal/hubserver"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/secret"
)

func newStorageCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "storage", Short: "Configure the storage account replicas go to"}
	cmd.AddCommand(newStorageSetCommand())
	return cmd
}

func newStorageSetCommand() *cobra.Command {
	var dir, keyFile string
	var sc hubserver.StorageConfig
	lifetime := 2 * time.Hour
	cmd := &cobra.Command{
		Use:   "set --dir DIR --endpoint URL --account NAME --key-file FILE|-",
		Short: "Record the storage account endpoint and shared key (the key is stored 0600, never printed)",
		Long: `Record the storage account the hub replicates into. The account key is read
from --key-file (or standard input with "-"), never from the command line, and
stored in the hub directory with mode 0600. Restart "hvm-hub serve" afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" || sc.Endpoint == "" || sc.Account == "" || keyFile == "" {
				return cmdline.Usage(errors.New("--dir, --endpoint, --account and --key-file are required"))
			}
			key, err := readKey(cmd.InOrStdin(), keyFile)
			if err != nil {
				return err
			}
			sc.SASLifetime = hubserver.Duration(lifetime)
			if err := hubserver.SetStorage(dir, sc, key); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "storage account %s at %s recorded; restart hvm-hub serve --dir %s\n", sc.Account, sc.Endpoint, dir)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the hub directory (required)")
	f.StringVar(&sc.Endpoint, "endpoint", "", "the account's blob endpoint, https://ACCOUNT.blob.core.windows.net (required)")
	f.StringVar(&sc.Account, "account", "", "the storage account name (required)")
	f.StringVar(&keyFile, "key-file", "", `file holding the account key, or "-" for standard input (required)`)
	f.StringVar(&sc.CAFile, "ca-file", "", "PEM roots for the endpoint (an emulator's CA); default: the system roots")
	f.DurationVar(&lifetime, "sas-lifetime", lifetime, "how long a SAS issued to a host stays valid (1h to 4h)")
	return cmd
}

// readKey reads the account key from a file or standard input.
func readKey(stdin io.Reader, path string) (secret.String, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return secret.String{}, fmt.Errorf("read account key: %w", err)
	}
	return secret.New(strings.TrimSpace(string(b))), nil
}
