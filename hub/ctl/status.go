package ctl

import (
	"fmt"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// statusJSON is a VM's status in -o json output.
type statusJSON struct {
	VMID           string     `json:"vm_id"`
	Name           string     `json:"name"`
	HostID         string     `json:"host_id"`
	State          string     `json:"state"`
	AppliedCycle   uint64     `json:"applied_cycle"`
	AppliedAt      *time.Time `json:"applied_at"`
	RPOSeconds     int64      `json:"rpo_seconds"`
	LatestReported uint64     `json:"latest_reported_cycle"`
	PendingBytes   int64      `json:"pending_bytes"`
	Health         string     `json:"health"`
	HealthMessage  string     `json:"health_message"`
	RecoveryPoints uint32     `json:"recovery_points"`
	HostHealth     string     `json:"host_health"`
	Migration      string     `json:"migration,omitempty"`
	Disks          []diskJSON `json:"disks"`
}

type diskJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	SizeBytes  uint64 `json:"size_bytes"`
	Phase      string `json:"phase"`
	DoneBytes  uint64 `json:"done_bytes"`
	TotalBytes uint64 `json:"total_bytes"`
}

func statusOut(v *adminv1.VmStatus) statusJSON {
	out := statusJSON{VMID: v.GetVmId(), Name: v.GetName(), HostID: v.GetHostId(), State: v.GetState(),
		AppliedCycle: v.GetAppliedCycle(), AppliedAt: timeOrNil(v.GetAppliedUnix()), RPOSeconds: v.GetRpoSeconds(),
		LatestReported: v.GetLatestReportedCycle(), PendingBytes: v.GetPendingBytes(), Health: v.GetHealth(),
		HealthMessage: v.GetHealthMessage(), RecoveryPoints: v.GetRecoveryPoints(), HostHealth: v.GetHostHealth(), Migration: v.GetMigration(), Disks: []diskJSON{}}
	for _, d := range v.GetDisks() {
		out.Disks = append(out.Disks, diskJSON{ID: d.GetId(), Name: d.GetName(), SizeBytes: d.GetSizeBytes(),
			Phase: d.GetPhase(), DoneBytes: d.GetDoneBytes(), TotalBytes: d.GetTotalBytes()})
	}
	return out
}

func statusTable() *table {
	return &table{header: []string{"VM", "STATE", "COPY", "CYCLE", "RPO", "PENDING", "POINTS", "HEALTH"}}
}

func addStatus(t *table, v *adminv1.VmStatus) {
	t.add(v.GetName(), v.GetState(), copyPercent(v), fmt.Sprint(v.GetAppliedCycle()), rpo(v),
		humanize.IBytes(uint64(max(v.GetPendingBytes(), 0))), fmt.Sprint(v.GetRecoveryPoints()), health(v))
}

// copyPercent is the initial copy's progress over every disk.
func copyPercent(v *adminv1.VmStatus) string {
	var done, total uint64
	for _, d := range v.GetDisks() {
		done, total = done+min(d.GetDoneBytes(), d.GetTotalBytes()), total+d.GetTotalBytes()
	}
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", done*100/total)
}

func rpo(v *adminv1.VmStatus) string {
	if v.GetSwitchedUnixMs() == 0 {
		return "-"
	}
	return (time.Duration(v.GetRpoSeconds()) * time.Second).String()
}

func health(v *adminv1.VmStatus) string {
	h := v.GetHealth()
	if v.GetHealthMessage() != "" {
		h += ": " + v.GetHealthMessage()
	}
	if mig := v.GetMigration(); mig != "" {
		h += " (migration " + mig + ")"
	}
	if hh := v.GetHostHealth(); hh != "" && hh != "ok" {
		h += " (host " + hh + ": " + v.GetHostHealthMessage() + ")"
	}
	return h
}

func newStatusCommand(o *options) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "status [VM] [--watch]",
		Short: "Show replicated VMs: state, copy progress, last cycle, RPO, pending bytes, health",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vm := ""
			if len(args) == 1 {
				vm = args[0]
			}
			if watch {
				s, err := o.connect()
				if err != nil {
					return err
				}
				defer s.close()
				return s.watch(cmd, vm)
			}
			resp, err := call(o, cmd.Context(), vm, adminv1.AdminServiceClient.GetStatus, &adminv1.GetStatusRequest{Vm: vm})
			if err != nil {
				return err
			}
			t, out := statusTable(), []statusJSON{}
			for _, v := range resp.GetVms() {
				addStatus(t, v)
				out = append(out, statusOut(v))
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "keep watching, with a progress bar per disk, until interrupted")
	return cmd
}
