package ctl

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// migrationJSON is a migration in -o json output.
type migrationJSON struct {
	Step       string   `json:"step"`
	Waiting    string   `json:"waiting,omitempty"`
	FinalCycle uint64   `json:"final_cycle"`
	Message    string   `json:"message,omitempty"`
	Container  string   `json:"container,omitempty"`
	Blobs      []string `json:"blobs"`
}

func newMigrateCommand(o *options) *cobra.Command {
	var noShutdown, wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "migrate VM [--no-shutdown]",
		Short: "Cut a VM over: final cycle, verification against the source, final disks, replication stopped",
		Long: `Cut a VM over. The hub asks the host to shut the VM down (unless --no-shutdown)
and run a final cycle, applies it, verifies the replica against the source's
chunk hashes, copies the disks to migrated/VM/ with vm.json and template.json,
and stops replication. Running the command again is safe at any step; with
--wait (the default) it follows the migration until it is done or fails.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect()
			if err != nil {
				return err
			}
			defer s.close()
			deadline := time.Now().Add(timeout)
			for {
				ctx, cancel := s.ctx(cmd.Context())
				resp, err := s.api.MigrateVm(ctx, &adminv1.MigrateVmRequest{Vm: args[0], NoShutdown: noShutdown})
				cancel()
				if err != nil {
					return s.explain(err, args[0])
				}
				if !wait || resp.GetStep() == "done" || time.Now().After(deadline) {
					return o.emit(cmd.OutOrStdout(), migrationOut(resp), migrationTable(args[0], resp))
				}
				select {
				case <-cmd.Context().Done():
					return cmd.Context().Err()
				case <-time.After(2 * time.Second):
				}
			}
		},
	}
	cmd.Flags().BoolVar(&noShutdown, "no-shutdown", false, "leave the source VM running during the final cycle")
	cmd.Flags().BoolVar(&wait, "wait", true, "follow the migration until it is done")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Hour, "with --wait, give up following after this long (the migration goes on)")
	return cmd
}

func migrationOut(r *adminv1.MigrateVmResponse) migrationJSON {
	return migrationJSON{Step: r.GetStep(), Waiting: r.GetWaiting(), FinalCycle: r.GetFinalCycle(), Message: r.GetMessage(),
		Container: r.GetContainer(), Blobs: append([]string{}, r.GetBlobs()...)}
}

func migrationTable(vm string, r *adminv1.MigrateVmResponse) *table {
	t := &table{header: []string{"VM", "STEP", "FINAL CYCLE", "DETAIL"}}
	detail := r.GetWaiting()
	if detail == "" && r.GetStep() == "done" {
		detail = fmt.Sprintf("%d blobs in %s", len(r.GetBlobs()), r.GetContainer())
	}
	t.add(vm, r.GetStep(), fmt.Sprint(r.GetFinalCycle()), detail)
	return t
}
