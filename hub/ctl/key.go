package ctl

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"hvmigrate/shared/cmdline"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
	"hvmigrate/shared/identity"
)

// keyJSON is a registration key in -o json output (never the secret).
type keyJSON struct {
	ID             string     `json:"id"`
	ProjectID      string     `json:"project_id"`
	State          string     `json:"state"`
	CreatedAt      *time.Time `json:"created_at"`
	ExpiresAt      *time.Time `json:"expires_at"`
	RedeemedByHost string     `json:"redeemed_by_host,omitempty"`
	File           string     `json:"file,omitempty"`
}

// displayState shows an unused key past its expiry as expired.
func displayState(k *adminv1.RegistrationKey) string {
	if k.GetState() == "unused" && time.Now().Unix() >= k.GetExpiresUnix() {
		return "expired"
	}
	return k.GetState()
}

func keyOut(k *adminv1.RegistrationKey) keyJSON {
	return keyJSON{ID: k.GetId(), ProjectID: k.GetProjectId(), State: displayState(k), CreatedAt: timeOrNil(k.GetCreatedUnix()),
		ExpiresAt: timeOrNil(k.GetExpiresUnix()), RedeemedByHost: k.GetRedeemedByHost()}
}

func keyTable() *table {
	return &table{header: []string{"ID", "PROJECT", "STATE", "EXPIRES", "HOST"}}
}

func addKey(t *table, k *adminv1.RegistrationKey) {
	t.add(k.GetId(), k.GetProjectId(), displayState(k), when(k.GetExpiresUnix()), firstOf(k.GetRedeemedByHost(), "-"))
}

func newKeyCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Create, list and revoke registration keys"}
	cmd.AddCommand(newKeyCreateCommand(o), newKeyListCommand(o), newKeyRevokeCommand(o))
	return cmd
}

func newKeyCreateCommand(o *options) *cobra.Command {
	var project, valid, out string
	cmd := &cobra.Command{
		Use:   "create --project P [--valid 5d] [--out FILE]",
		Short: "Create a one-time registration key and write its key file (mode 0600)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if project == "" {
				return cmdline.Usage(fmt.Errorf("--project is required"))
			}
			d, err := parseValidity(valid)
			if err != nil {
				return err
			}
			resp, err := call(o, cmd.Context(), project, adminv1.AdminServiceClient.CreateRegistrationKey, &adminv1.CreateRegistrationKeyRequest{Project: project, ValidSeconds: int64(d / time.Second)})
			if err != nil {
				return err
			}
			k := resp.GetKey()
			path := firstOf(out, fmt.Sprintf("hvm-key-%s.json", k.GetId()[:8]))
			if err := identity.WritePrivate(path, resp.GetKeyFile()); err != nil {
				return err
			}
			abs, _ := filepath.Abs(path)
			t := &table{header: []string{"ID", "PROJECT", "EXPIRES", "FILE"}}
			t.add(k.GetId(), k.GetProjectId(), when(k.GetExpiresUnix()), abs)
			j := keyOut(k)
			j.File = abs
			return o.emit(cmd.OutOrStdout(), j, t)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "project name or id (required)")
	cmd.Flags().StringVar(&valid, "valid", "1d", "how long the key can be redeemed: e.g. 5d, 12h")
	cmd.Flags().StringVar(&out, "out", "", "key file to write (default hvm-key-<id>.json in the current directory)")
	return cmd
}

func newKeyListCommand(o *options) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "list [--project P]",
		Short: "List registration keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := call(o, cmd.Context(), project, adminv1.AdminServiceClient.ListRegistrationKeys, &adminv1.ListRegistrationKeysRequest{Project: project})
			if err != nil {
				return err
			}
			t, out := keyTable(), []keyJSON{}
			for _, k := range resp.GetKeys() {
				addKey(t, k)
				out = append(out, keyOut(k))
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "only this project (name or id)")
	return cmd
}

func newKeyRevokeCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a registration key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.RevokeRegistrationKey, &adminv1.RevokeRegistrationKeyRequest{Id: args[0]})
			if err != nil {
				return err
			}
			t := keyTable()
			addKey(t, resp.GetKey())
			return o.emit(cmd.OutOrStdout(), keyOut(resp.GetKey()), t)
		},
	}
}
