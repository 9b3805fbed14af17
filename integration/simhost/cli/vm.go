package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/shared/cmdline"
)

func newVMCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "vm", Short: "Create, list, show, start, stop and delete VMs"}
	cmd.AddCommand(newVMCreateCommand(g), newVMListCommand(g), newVMShowCommand(g),
		newVMStartCommand(g), newVMStopCommand(g), newVMDeleteCommand(g), newVMClearResyncCommand(g))
	return cmd
}

func newVMCreateCommand(g *globals) *cobra.Command {
	var disks, nics []string
	var memory string
	spec := simhost.VMSpec{}
	cmd := &cobra.Command{
		Use:   "create NAME --disk SIZE[,FORMAT[,SECTOR]]...",
		Short: "Create a VM (powered off)",
		Example: `  hvm-simhost vm create web01 --disk 40G --disk 1T,vhdx-dynamic,4096
  hvm-simhost vm create legacy --disk 2G,vhd-fixed --nic lan=External`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			spec.Name = args[0]
			if err := parseVMFlags(&spec, disks, nics, memory); err != nil {
				return cmdline.Usage(err)
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := c.CreateVM(ctx, spec)
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), vm, func() {
					fmt.Fprintf(cmd.OutOrStdout(), "created vm %s (%s), powered off; start it with `hvm-simhost vm start %s`\n", vm.Name, vm.ID, vm.ID)
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&disks, "disk", nil, "a disk: SIZE[,FORMAT[,SECTOR]], FORMAT vhdx-dynamic (default), vhdx-fixed or vhd-fixed, SECTOR 512 or 4096 (repeat for more disks)")
	f.StringArrayVar(&nics, "nic", nil, "a network adapter: NAME[=SWITCH] (repeatable)")
	f.IntVar(&spec.CPUs, "cpus", 2, "virtual processors")
	f.StringVar(&memory, "memory", "2G", "memory size")
	f.IntVar(&spec.Generation, "generation", 2, "VM generation, 1 or 2")
	return cmd
}

// parseVMFlags fills spec from the create flags.
func parseVMFlags(spec *simhost.VMSpec, disks, nics []string, memory string) error {
	if len(disks) == 0 {
		return fmt.Errorf("give at least one --disk SIZE, e.g. --disk 10G")
	}
	m, err := simhost.ParseSize(memory)
	if err != nil {
		return fmt.Errorf("--memory %q: %w", memory, err)
	}
	spec.MemoryBytes = m
	for _, d := range disks {
		ds, err := parseDisk(d)
		if err != nil {
			return fmt.Errorf("--disk %q: %w", d, err)
		}
		spec.Disks = append(spec.Disks, ds)
	}
	for _, n := range nics {
		name, sw, _ := strings.Cut(n, "=")
		spec.NICs = append(spec.NICs, simhost.NIC{Name: name, SwitchName: sw})
	}
	return nil
}

// parseDisk parses SIZE[,FORMAT[,SECTOR]].
func parseDisk(s string) (simhost.DiskSpec, error) {
	parts := strings.Split(s, ",")
	size, err := simhost.ParseSize(parts[0])
	if err != nil {
		return simhost.DiskSpec{}, err
	}
	ds := simhost.DiskSpec{Size: size}
	if len(parts) > 1 {
		ds.Format = simhost.DiskFormat(parts[1])
	}
	if len(parts) > 2 {
		if _, err := fmt.Sscanf(parts[2], "%d", &ds.LogicalSectorSize); err != nil {
			return ds, fmt.Errorf("sector size %q: want 512 or 4096", parts[2])
		}
	}
	if len(parts) > 3 {
		return ds, fmt.Errorf("want SIZE[,FORMAT[,SECTOR]]")
	}
	return ds, nil
}

func newVMListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "list", Short: "List the VMs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vms, err := c.ListVMs(ctx)
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), vms, func() { printVMList(cmd.OutOrStdout(), vms) })
			})
		},
	}
}

func newVMShowCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "show VM", Short: "Show a VM's inventory (VM is an id or a unique name)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), vm, func() { printVM(cmd.OutOrStdout(), vm) })
			})
		},
	}
}

// vmAction builds a command that does one thing to one VM.
func vmAction(g *globals, use, short, done string, fn func(context.Context, *client.Client, string) error) *cobra.Command {
	return &cobra.Command{
		Use: use + " VM", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				if err := fn(ctx, c, vm.ID); err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), map[string]string{"vm_id": vm.ID, "result": done}, func() {
					fmt.Fprintf(cmd.OutOrStdout(), "vm %s (%s): %s\n", vm.Name, vm.ID, done)
				})
			})
		},
	}
}

func newVMStartCommand(g *globals) *cobra.Command {
	return vmAction(g, "start", "Power a VM on", "running", func(ctx context.Context, c *client.Client, id string) error {
		return c.StartVM(ctx, id)
	})
}

func newVMStopCommand(g *globals) *cobra.Command {
	var turnOff bool
	cmd := vmAction(g, "stop", "Shut a VM down (drains writes), or --turn-off", "off", func(ctx context.Context, c *client.Client, id string) error {
		mode := simhost.StopShutdown
		if turnOff {
			mode = simhost.StopTurnOff
		}
		return c.StopVM(ctx, id, mode)
	})
	cmd.Flags().BoolVar(&turnOff, "turn-off", false, "cut the power: running workloads end at once")
	return cmd
}

func newVMDeleteCommand(g *globals) *cobra.Command {
	return vmAction(g, "delete", "Delete a VM that is off, with all its files", "deleted", func(ctx context.Context, c *client.Client, id string) error {
		return c.DeleteVM(ctx, id)
	})
}

func newVMClearResyncCommand(g *globals) *cobra.Command {
	return vmAction(g, "clear-resync", "Lower a VM's needs-resync flag after resynchronising it", "resync flag cleared", func(ctx context.Context, c *client.Client, id string) error {
		return c.ClearResync(ctx, id)
	})
}

// resolve finds a VM by id, or by name when exactly one VM has it.
func resolve(ctx context.Context, c *client.Client, ref string) (simhost.VM, error) {
	vms, err := c.ListVMs(ctx)
	if err != nil {
		return simhost.VM{}, err
	}
	var byName []simhost.VM
	for _, vm := range vms {
		if vm.ID == ref {
			return vm, nil
		}
		if vm.Name == ref {
			byName = append(byName, vm)
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return simhost.VM{}, fmt.Errorf("vm %q: %w: no VM has that id or name; `hvm-simhost vm list` shows them", ref, simhost.ErrNotFound)
	}
	return simhost.VM{}, fmt.Errorf("vm %q: %w: %d VMs have that name; use the id", ref, simhost.ErrInvalid, len(byName))
}
