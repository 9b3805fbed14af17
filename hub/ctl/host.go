package ctl

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// hostJSON is a host in -o json output.
type hostJSON struct {
	ID           string     `json:"id"`
	ProjectID    string     `json:"project_id"`
	Hostname     string     `json:"hostname"`
	CertSerial   string     `json:"cert_serial"`
	CertNotAfter *time.Time `json:"cert_not_after"`
	Revoked      bool       `json:"revoked"`
	Connected    bool       `json:"connected"`
	CreatedAt    *time.Time `json:"created_at"`
	LastSeen     *time.Time `json:"last_seen"`
}

func hostOut(h *adminv1.Host) hostJSON {
	return hostJSON{ID: h.GetId(), ProjectID: h.GetProjectId(), Hostname: h.GetHostname(), CertSerial: h.GetCertSerial(),
		CertNotAfter: timeOrNil(h.GetCertNotAfterUnix()), Revoked: h.GetRevoked(), Connected: h.GetConnected(),
		CreatedAt: timeOrNil(h.GetCreatedUnix()), LastSeen: timeOrNil(h.GetLastSeenUnix())}
}

func hostState(h *adminv1.Host) string {
	switch {
	case h.GetRevoked():
		return "revoked"
	case h.GetConnected():
		return "connected"
	}
	return "offline"
}

func hostTable() *table {
	return &table{header: []string{"ID", "HOSTNAME", "PROJECT", "STATE", "LAST SEEN", "CERT EXPIRES"}}
}

func addHost(t *table, h *adminv1.Host) {
	t.add(h.GetId(), h.GetHostname(), h.GetProjectId(), hostState(h), when(h.GetLastSeenUnix()), when(h.GetCertNotAfterUnix()))
}

func newHostCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "host", Short: "List and revoke registered hosts"}
	var project string
	list := &cobra.Command{
		Use:   "list [--project P]",
		Short: "List registered hosts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := call(o, cmd.Context(), project, adminv1.AdminServiceClient.ListHosts, &adminv1.ListHostsRequest{Project: project})
			if err != nil {
				return err
			}
			t, out := hostTable(), []hostJSON{}
			for _, h := range resp.GetHosts() {
				addHost(t, h)
				out = append(out, hostOut(h))
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	}
	list.Flags().StringVar(&project, "project", "", "only this project (name or id)")
	revoke := &cobra.Command{
		Use:   "revoke HOST",
		Short: "Revoke a host: its certificate is refused from now on and its stream ends",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.RevokeHost, &adminv1.RevokeHostRequest{Id: args[0]})
			if err != nil {
				return err
			}
			t := hostTable()
			addHost(t, resp.GetHost())
			return o.emit(cmd.OutOrStdout(), hostOut(resp.GetHost()), t)
		},
	}
	cmd.AddCommand(list, revoke, newThrottleCommand(o))
	return cmd
}

func newThrottleCommand(o *options) *cobra.Command {
	req := &adminv1.SetThrottleRequest{}
	cmd := &cobra.Command{
		Use:   "throttle HOST --work-bps N --off-bps N",
		Short: "Set a host's upload limits (bits per second, 0 = unlimited)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.HostId = args[0]
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.SetThrottle, req)
			if err != nil {
				return err
			}
			t := &table{header: []string{"HOST", "COMMAND"}}
			t.add(args[0], resp.GetCommandId())
			return o.emit(cmd.OutOrStdout(), map[string]string{"host_id": args[0], "command_id": resp.GetCommandId()}, t)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&req.WorkHoursBps, "work-bps", 0, "limit during work hours, bits per second (0 = unlimited)")
	f.Int64Var(&req.OffHoursBps, "off-bps", 0, "limit outside work hours, bits per second (0 = unlimited)")
	f.StringVar(&req.WorkStart, "work-start", "08:00", "start of work hours, HH:MM host time")
	f.StringVar(&req.WorkEnd, "work-end", "18:00", "end of work hours, HH:MM host time")
	return cmd
}

// vmJSON is a VM in -o json output; generation, vcpus and memory_bytes
// are 0 when the host did not report them.
type vmJSON struct {
	ID          string     `json:"id"`
	HostID      string     `json:"host_id"`
	Name        string     `json:"name"`
	PowerState  string     `json:"power_state"`
	Generation  uint32     `json:"generation"`
	VCPUs       uint32     `json:"vcpus"`
	MemoryBytes uint64     `json:"memory_bytes"`
	NICs        []nicJSON  `json:"nics"`
	Disks       uint32     `json:"disks"`
	TotalBytes  uint64     `json:"total_bytes"`
	UpdatedAt   *time.Time `json:"updated_at"`
}

// nicJSON is a VM's network adapter in -o json output.
type nicJSON struct {
	Name   string `json:"name"`
	Switch string `json:"switch"`
	MAC    string `json:"mac"`
}

func vmToJSON(v *adminv1.Vm) vmJSON {
	out := vmJSON{ID: v.GetId(), HostID: v.GetHostId(), Name: v.GetName(), PowerState: v.GetPowerState(),
		Generation: v.GetGeneration(), VCPUs: v.GetVcpus(), MemoryBytes: v.GetMemoryBytes(), NICs: []nicJSON{},
		Disks: v.GetDiskCount(), TotalBytes: v.GetTotalBytes(), UpdatedAt: timeOrNil(v.GetUpdatedUnix())}
	for _, n := range v.GetNics() {
		out.NICs = append(out.NICs, nicJSON{Name: n.GetName(), Switch: n.GetSwitchName(), MAC: n.GetMacAddress()})
	}
	return out
}

// vmRow is a VM in the table; hardware the host did not report is "-".
func vmRow(v *adminv1.Vm) []string {
	dash := func(n uint64, s string) string {
		if n == 0 {
			return "-"
		}
		return s
	}
	return []string{v.GetId(), v.GetName(), v.GetHostId(), v.GetPowerState(),
		dash(uint64(v.GetGeneration()), fmt.Sprint(v.GetGeneration())), dash(uint64(v.GetVcpus()), fmt.Sprint(v.GetVcpus())),
		dash(v.GetMemoryBytes(), fmt.Sprintf("%.1f GiB", float64(v.GetMemoryBytes())/(1<<30))), fmt.Sprint(len(v.GetNics())),
		fmt.Sprint(v.GetDiskCount()), fmt.Sprintf("%.1f GiB", float64(v.GetTotalBytes())/(1<<30))}
}

func newVMCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "vm", Short: "Show the VMs hosts reported"}
	var host string
	list := &cobra.Command{
		Use:   "list [--host HOST]",
		Short: "List the VM inventory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := call(o, cmd.Context(), host, adminv1.AdminServiceClient.ListVms, &adminv1.ListVmsRequest{HostId: host})
			if err != nil {
				return err
			}
			t := &table{header: []string{"ID", "NAME", "HOST", "POWER", "GEN", "VCPUS", "MEMORY", "NICS", "DISKS", "SIZE"}}
			out := []vmJSON{}
			for _, v := range resp.GetVms() {
				t.add(vmRow(v)...)
				out = append(out, vmToJSON(v))
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	}
	list.Flags().StringVar(&host, "host", "", "only this host id")
	cmd.AddCommand(list)
	return cmd
}
