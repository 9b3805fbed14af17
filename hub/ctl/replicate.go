package ctl

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// policyFlags are the flags of replicate enable.
type policyFlags struct {
	interval   time.Duration
	threads    uint32
	keepLatest uint32
	keepWindow time.Duration
	keepEvery  time.Duration
	exclude    []string
}

func (p *policyFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.DurationVar(&p.interval, "interval", 5*time.Minute, "time between delta cycles (30s to 24h)")
	f.Uint32Var(&p.threads, "threads", 4, "upload threads per disk (1 to 32)")
	f.Uint32Var(&p.keepLatest, "keep-latest", 1, "how many of the newest recovery points to keep")
	f.DurationVar(&p.keepWindow, "keep-window", 24*time.Hour, "also keep one point per --keep-every within this window (0: latest only)")
	f.DurationVar(&p.keepEvery, "keep-every", time.Hour, "spacing of the points kept within --keep-window")
	f.StringSliceVar(&p.exclude, "exclude-disk", nil, "disk id not to replicate (repeatable)")
}

func (p *policyFlags) proto() *adminv1.ReplicationPolicy {
	out := &adminv1.ReplicationPolicy{IntervalSeconds: int64(p.interval / time.Second), Threads: p.threads,
		KeepLatest: p.keepLatest, KeepWindowSeconds: int64(p.keepWindow / time.Second),
		KeepIntervalSeconds: int64(p.keepEvery / time.Second), ExcludeDiskIds: p.exclude}
	if p.keepWindow == 0 {
		out.LatestOnly, out.KeepIntervalSeconds = true, 0
	}
	return out
}

func newReplicateCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "replicate", Short: "Enable and disable the replication of VMs"}
	var pf policyFlags
	enable := &cobra.Command{
		Use:   "enable VM",
		Short: "Start replicating a VM (by id or name) with a policy",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return vmCall(o, cmd, args[0], adminv1.AdminServiceClient.EnableReplication,
				&adminv1.EnableReplicationRequest{Vm: args[0], Policy: pf.proto()})
		},
	}
	pf.add(enable)
	disable := &cobra.Command{
		Use:   "disable VM",
		Short: "Stop replicating a VM; its replicas and recovery points stay",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return vmCall(o, cmd, args[0], adminv1.AdminServiceClient.DisableReplication, &adminv1.DisableReplicationRequest{Vm: args[0]})
		},
	}
	cmd.AddCommand(enable, disable)
	return cmd
}

func newResyncCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "resync VM",
		Short: "Compare a VM's source and replica disks and resend what differs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return vmCall(o, cmd, args[0], adminv1.AdminServiceClient.ResyncVm, &adminv1.ResyncVmRequest{Vm: args[0]})
		},
	}
}

// vmCall makes one call about vm and prints the VM status it returns.
func vmCall[Req any, Resp interface{ GetStatus() *adminv1.VmStatus }](o *options, cmd *cobra.Command, vm string, method rpc[Req, Resp], req Req) error {
	resp, err := call(o, cmd.Context(), vm, method, req)
	if err != nil {
		return err
	}
	st := resp.GetStatus()
	t := statusTable()
	addStatus(t, st)
	return o.emit(cmd.OutOrStdout(), statusOut(st), t)
}

func newRecoveryPointsCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "recovery-points", Short: "List a VM's recovery points"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list VM",
		Short: "List a VM's recovery points, oldest first; the cycle is the point's id",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := call(o, cmd.Context(), args[0], adminv1.AdminServiceClient.ListRecoveryPoints, &adminv1.ListRecoveryPointsRequest{Vm: args[0]})
			if err != nil {
				return err
			}
			t := &table{header: []string{"ID", "TAKEN", "CONSISTENCY", "DISKS"}}
			out := []pointJSON{}
			for _, p := range resp.GetPoints() {
				t.add(fmt.Sprint(p.GetCycle()), when(p.GetTakenUnix()), p.GetConsistency(), fmt.Sprint(len(p.GetDisks())))
				pj := pointJSON{ID: p.GetCycle(), Taken: timeOrNil(p.GetTakenUnix()), Consistency: p.GetConsistency(), Disks: []pointDiskJSON{}}
				for _, d := range p.GetDisks() {
					pj.Disks = append(pj.Disks, pointDiskJSON{DiskID: d.GetDiskId(), Snapshot: d.GetSnapshot()})
				}
				out = append(out, pj)
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	})
	return cmd
}

// pointJSON is a recovery point in -o json output.
type pointJSON struct {
	ID          uint64          `json:"id"`
	Taken       *time.Time      `json:"taken_at"`
	Consistency string          `json:"consistency"`
	Disks       []pointDiskJSON `json:"disks"`
}

type pointDiskJSON struct {
	DiskID   string `json:"disk_id"`
	Snapshot string `json:"snapshot"`
}
