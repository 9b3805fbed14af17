package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"hvmigrate/integration/simhost"
	"hvmigrate/shared/units"
)

func printVMList(w io.Writer, vms []simhost.VM) {
	if len(vms) == 0 {
		fmt.Fprintln(w, "no VMs; create one with `hvm-simhost vm create NAME --disk 10G`")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPOWER\tDISKS\tCHECKPOINT\tTRACKING\tRESYNC")
	for _, vm := range vms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", vm.ID, vm.Name, vm.Power, len(vm.Disks),
			yesNo(vm.Checkpoint != nil), trackingText(vm.Tracking), yesNo(vm.NeedsResync))
	}
	tw.Flush()
}

func printVM(w io.Writer, vm simhost.VM) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Name:\t%s\nId:\t%s\nPower:\t%s\n", vm.Name, vm.ID, vm.Power)
	fmt.Fprintf(tw, "Generation:\t%d\nProcessors:\t%d\nMemory:\t%s\n", vm.Generation, vm.CPUs, units.Size(vm.MemoryBytes))
	for _, n := range vm.NICs {
		fmt.Fprintf(tw, "Network adapter:\t%s, %s, switch %q\n", n.Name, n.MACAddress, n.SwitchName)
	}
	if c := vm.Checkpoint; c != nil {
		fmt.Fprintf(tw, "Checkpoint:\t%s (%s), made %s\n", c.Name, c.ID, c.CreatedAt.Local().Format(time.DateTime))
	} else {
		fmt.Fprintf(tw, "Checkpoint:\tnone\n")
	}
	fmt.Fprintf(tw, "Tracking:\t%s\n", trackingText(vm.Tracking))
	if vm.NeedsResync {
		fmt.Fprintf(tw, "Needs resync:\tyes: %s\n", vm.ResyncReason)
	}
	tw.Flush()
	fmt.Fprintln(w, "Disks:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tID\tFORMAT\tSIZE\tSECTOR\tDATA WRITE GUID\tPATH")
	for _, d := range vm.Disks {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", d.Index, d.ID, d.Format, units.Size(d.Size),
			d.LogicalSectorSize, d.PhysicalSectorSize, guidOrDash(d.Identity.DataWriteGUID.String(), d.Identity.DataWriteGUID.IsZero()), d.Path)
		if d.CurrentLog != "" {
			fmt.Fprintf(tw, "  \t\t\t\t\tlog:\t%s\n", d.CurrentLog)
		}
	}
	tw.Flush()
}

func trackingText(t simhost.TrackingInfo) string {
	if !t.Enabled {
		return "off"
	}
	return fmt.Sprintf("on, last switch %d", t.LastSwitch)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func guidOrDash(s string, zero bool) string {
	if zero {
		return "-"
	}
	return s
}

func printChecksums(w io.Writer, cs []simhost.DiskChecksum) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISK\tSIZE\tSHA256")
	for _, c := range cs {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", c.Index, units.Size(c.Size), c.SHA256)
	}
	tw.Flush()
}

// rateText renders bytes per second in MB/s (10^6), as storage rates are.
func rateText(bps float64) string { return fmt.Sprintf("%.1f MB/s", bps/1e6) }
