package ctl

import (
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

// throttleJSON is a host's limit in -o json output.
type throttleJSON struct {
	HostID    string     `json:"host_id"`
	WorkBps   int64      `json:"work_hours_bps"`
	OffBps    int64      `json:"off_hours_bps"`
	WorkStart string     `json:"work_start"`
	WorkEnd   string     `json:"work_end"`
	CommandID string     `json:"command_id"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// newTopThrottleCommand is "hvmctl throttle set|show"; set is the same
// command as "hvmctl host throttle".
func newTopThrottleCommand(o *options) *cobra.Command {
	cmd := &cobra.Command{Use: "throttle", Short: "Set and show hosts' upload limits (work and non-work hours)"}
	set := newThrottleCommand(o)
	set.Use = "set HOST --work-bps N --off-bps N [--work-start HH:MM --work-end HH:MM]"
	show := &cobra.Command{
		Use:   "show [HOST]",
		Short: "Show the limits last set per host",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host := ""
			if len(args) == 1 {
				host = args[0]
			}
			resp, err := call(o, cmd.Context(), host, adminv1.AdminServiceClient.ListThrottles, &adminv1.ListThrottlesRequest{HostId: host})
			if err != nil {
				return err
			}
			t := &table{header: []string{"HOST", "WORK HOURS", "WORK LIMIT", "OFF-HOURS LIMIT", "SET"}}
			out := []throttleJSON{}
			for _, th := range resp.GetThrottles() {
				t.add(th.GetHostId(), th.GetWorkStart()+"-"+th.GetWorkEnd(), bps(th.GetWorkHoursBps()), bps(th.GetOffHoursBps()), when(th.GetUpdatedUnix()))
				out = append(out, throttleJSON{HostID: th.GetHostId(), WorkBps: th.GetWorkHoursBps(), OffBps: th.GetOffHoursBps(),
					WorkStart: th.GetWorkStart(), WorkEnd: th.GetWorkEnd(), CommandID: th.GetCommandId(), UpdatedAt: timeOrNil(th.GetUpdatedUnix())})
			}
			return o.emit(cmd.OutOrStdout(), out, t)
		},
	}
	cmd.AddCommand(set, show)
	return cmd
}

// bps formats a limit in bits per second; 0 is unlimited.
func bps(v int64) string {
	if v <= 0 {
		return "unlimited"
	}
	return humanize.SI(float64(v), "bit/s")
}
