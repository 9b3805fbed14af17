package ctl

import (
	"fmt"

	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// testRunJSON is a test migration in -o json output.
type testRunJSON struct {
	RunID     string   `json:"run_id"`
	Point     uint64   `json:"point"`
	Container string   `json:"container"`
	Blobs     []string `json:"blobs"`
}

func newTestMigrateCommand(o *options) *cobra.Command {
	var point uint64
	cmd := &cobra.Command{
		Use:   "test-migrate VM [--point ID]",
		Short: "Copy a VM's disks at a recovery point to a disposable place, with a VM definition and an ARM template",
		Long: `Copy a VM's disks at a recovery point (the latest unless --point names one; see
"hvmctl recovery-points list VM") to testmigrate/VM/RUN/ in the project's replica
container, with vm.json (the VM definition) and template.json (an ARM template
that imports the disks as managed disks and creates the VM). Replication goes on.
Remove it with "hvmctl test-migrate cleanup VM".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.TestMigrateVm, &adminv1.TestMigrateVmRequest{Vm: args[0], Point: point})
			if err != nil {
				return err
			}
			t := &table{header: []string{"RUN", "POINT", "CONTAINER", "BLOB"}}
			for _, b := range resp.GetBlobs() {
				t.add(resp.GetRunId(), fmt.Sprint(resp.GetPoint()), resp.GetContainer(), b)
			}
			return o.emit(cmd.OutOrStdout(), testRunJSON{RunID: resp.GetRunId(), Point: resp.GetPoint(),
				Container: resp.GetContainer(), Blobs: resp.GetBlobs()}, t)
		},
	}
	cmd.Flags().Uint64Var(&point, "point", 0, "recovery point id (its cycle); default the latest")
	cmd.AddCommand(&cobra.Command{
		Use:   "cleanup VM",
		Short: "Delete every test migration of a VM",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.CleanupTestMigration, &adminv1.CleanupTestMigrationRequest{Vm: args[0]})
			if err != nil {
				return err
			}
			t := &table{header: []string{"VM", "DELETED BLOBS"}}
			t.add(args[0], fmt.Sprint(resp.GetDeletedBlobs()))
			return o.emit(cmd.OutOrStdout(), map[string]any{"vm": args[0], "deleted_blobs": resp.GetDeletedBlobs()}, t)
		},
	})
	return cmd
}
