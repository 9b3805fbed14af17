package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
)

func newCheckpointCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "checkpoint", Short: "Create, delete (merge) and inspect a VM's checkpoint"}
	var spec simhost.CheckpointSpec
	create := &cobra.Command{
		Use: "create VM", Short: "Freeze every disk of the VM at one instant", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				info, err := c.CreateCheckpoint(ctx, vm.ID, spec)
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), info, func() {
					fmt.Fprintf(cmd.OutOrStdout(), "checkpoint %q (%s) of %s created; frozen disks: `hvm-simhost checkpoint frozen %s`\n", info.Name, info.ID, vm.Name, vm.ID)
				})
			})
		},
	}
	create.Flags().StringVar(&spec.Name, "name", "", "checkpoint name")
	create.Flags().BoolVar(&spec.StartTracking, "start-tracking", false, "also start change tracking at the same instant")
	del := vmAction(g, "delete", "Merge the checkpoint back into the disks", "checkpoint merged", func(ctx context.Context, c *client.Client, id string) error {
		return c.DeleteCheckpoint(ctx, id)
	})
	frozen := &cobra.Command{
		Use: "frozen VM", Short: "List the read-only disks as of the checkpoint", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				fs, err := c.GetFrozenDisks(ctx, vm.ID)
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), fs, func() {
					for _, f := range fs {
						fmt.Fprintf(cmd.OutOrStdout(), "%d\t%s\n", f.Index, f.Path)
					}
				})
			})
		},
	}
	cmd.AddCommand(create, del, frozen)
	return cmd
}

func newTrackingCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tracking", Short: "Start or stop change tracking (HRL logs)"}
	start := vmAction(g, "start", "Log every guest write into the disks' HRL logs", "tracking on", func(ctx context.Context, c *client.Client, id string) error {
		_, err := c.StartTracking(ctx, id)
		return err
	})
	var remove bool
	stop := vmAction(g, "stop", "Stop change tracking", "tracking off", func(ctx context.Context, c *client.Client, id string) error {
		return c.StopTracking(ctx, id, remove)
	})
	stop.Flags().BoolVar(&remove, "remove-logs", false, "also delete every log file of the VM's disks")
	cmd.AddCommand(start, stop)
	return cmd
}

func newSwitchCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "switch VM", Short: "Close the logs of all disks at one instant and start new ones", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				res, err := c.SwitchLogs(ctx, vm.ID)
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), res, func() { printSwitch(cmd, res) })
			})
		},
	}
}

func printSwitch(cmd *cobra.Command, res simhost.SwitchResult) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "switch %d\n", res.Number)
	for _, d := range res.Disks {
		fmt.Fprintf(out, "disk %d: closed %s\n        new    %s\n", d.Index, strings.Join(d.ClosedLogs, ", "), d.NewLog)
		if d.SHA256 != "" {
			fmt.Fprintf(out, "        sha256 %s\n", d.SHA256)
		}
	}
	if res.NeedsResync {
		fmt.Fprintf(out, "the vm needs a resync: %s\n", res.ResyncReason)
	}
}
