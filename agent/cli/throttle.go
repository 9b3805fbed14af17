package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"hvmigrate/shared/cmdline"
	agentv1 "hvmigrate/shared/gen/hvmigrate/agent/v1"
	"hvmigrate/shared/ipc"
	"hvmigrate/shared/units"
)

// newThrottleCommand lets a local administrator read and set the host's
// upload limits on the running agent, without the hub.
func newThrottleCommand() *cobra.Command {
	endpoint := ipc.DefaultAgentEndpoint()
	cmd := &cobra.Command{
		Use:   "throttle",
		Short: "Show or set this host's upload limits (work and non-work hours) on the running agent",
	}
	cmd.PersistentFlags().StringVar(&endpoint, "agent", endpoint, "the agent's socket path (Linux) or pipe name (Windows)")
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the limits and the one in force now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAgent(cmd.Context(), endpoint, func(ctx context.Context, c agentv1.AgentServiceClient) error {
				resp, err := c.GetThrottle(ctx, &agentv1.GetThrottleRequest{})
				if err != nil {
					return wireError(err)
				}
				return printThrottle(cmd.OutOrStdout(), resp.GetSettings(), resp.GetInForce())
			})
		},
	}
	cmd.AddCommand(show, newThrottleSetCommand(&endpoint))
	return cmd
}

type throttleFlags struct {
	work, off, days, start, end, zone string
	threads                           uint32
}

func newThrottleSetCommand(endpoint *string) *cobra.Command {
	var f throttleFlags
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Change the limits; flags not given keep their current value",
		Example: `  hvm-agent throttle set --work-hours 50Mbps --non-work-hours unlimited \
      --work-days Mon-Fri --start 08:00 --end 18:00 --time-zone Europe/Berlin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAgent(cmd.Context(), *endpoint, func(ctx context.Context, c agentv1.AgentServiceClient) error {
				cur, err := c.GetThrottle(ctx, &agentv1.GetThrottleRequest{})
				if err != nil {
					return wireError(err)
				}
				s := cur.GetSettings()
				if err := f.apply(cmd, s); err != nil {
					return cmdline.Usage(err)
				}
				resp, err := c.SetThrottle(ctx, &agentv1.SetThrottleRequest{Settings: s})
				if err != nil {
					return wireError(err)
				}
				return printThrottle(cmd.OutOrStdout(), resp.GetSettings(), resp.GetInForce())
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.work, "work-hours", "", "limit during work hours: 512Kbps to 1023Mbps, or unlimited")
	fl.StringVar(&f.off, "non-work-hours", "", "limit outside work hours: 512Kbps to 1023Mbps, or unlimited")
	fl.StringVar(&f.days, "work-days", "", "work days, e.g. Mon-Fri or Mon,Wed,Fri")
	fl.StringVar(&f.start, "start", "", "start of work hours, HH:MM")
	fl.StringVar(&f.end, "end", "", "end of work hours, HH:MM")
	fl.StringVar(&f.zone, "time-zone", "", "IANA time zone of the work hours, e.g. Europe/Berlin")
	fl.Uint32Var(&f.threads, "threads-per-vm", 0, "default upload threads per VM, 1 to 32")
	return cmd
}

// apply writes the flags that were given into s.
func (f *throttleFlags) apply(cmd *cobra.Command, s *agentv1.ThrottleSettings) error {
	set := cmd.Flags().Changed
	for _, l := range []struct {
		flag, val string
		dst       **agentv1.BandwidthLimit
	}{{"work-hours", f.work, &s.WorkHours}, {"non-work-hours", f.off, &s.NonWorkHours}} {
		if !set(l.flag) {
			continue
		}
		b, err := units.ParseBandwidth(l.val)
		if err != nil {
			return fmt.Errorf("--%s: %w", l.flag, err)
		}
		*l.dst = &agentv1.BandwidthLimit{Unlimited: b.IsUnlimited(), BitsPerSecond: uint64(b)}
	}
	if set("work-days") {
		w, err := units.ParseWeekdays(f.days)
		if err != nil {
			return fmt.Errorf("--work-days: %w", err)
		}
		s.WorkDays = nil
		for d := time.Sunday; d <= time.Saturday; d++ {
			if w.Has(d) {
				s.WorkDays = append(s.WorkDays, uint32(d))
			}
		}
	}
	if set("start") {
		s.WorkStart = f.start
	}
	if set("end") {
		s.WorkEnd = f.end
	}
	if set("time-zone") {
		s.TimeZone = f.zone
	}
	if set("threads-per-vm") {
		s.ThreadsPerVm = f.threads
	}
	return nil
}

func printThrottle(w io.Writer, s *agentv1.ThrottleSettings, inForce *agentv1.BandwidthLimit) error {
	var days []string
	for _, d := range s.GetWorkDays() {
		days = append(days, time.Weekday(d).String()[:3])
	}
	zone := s.GetTimeZone()
	if zone == "" {
		zone = "host time"
	}
	_, err := fmt.Fprintf(w, "work hours:      %s, %s %s-%s (%s)\nnon-work hours:  %s\nthreads per VM:  %d\nin force now:    %s\n",
		limitText(s.GetWorkHours()), strings.Join(days, ","), s.GetWorkStart(), s.GetWorkEnd(), zone,
		limitText(s.GetNonWorkHours()), s.GetThreadsPerVm(), limitText(inForce))
	return err
}

func limitText(l *agentv1.BandwidthLimit) string {
	if l.GetUnlimited() {
		return "unlimited"
	}
	return units.Bandwidth(l.GetBitsPerSecond()).String()
}

// withAgent calls fn with a client of the running agent.
func withAgent(ctx context.Context, endpoint string, fn func(context.Context, agentv1.AgentServiceClient) error) error {
	conn, err := grpc.NewClient("passthrough:///hvm-agent",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return ipc.Dial(ctx, endpoint) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return fn(ctx, agentv1.NewAgentServiceClient(conn))
}

// wireError turns a gRPC status into a plain message.
func wireError(err error) error {
	if st, ok := status.FromError(err); ok {
		return fmt.Errorf("agent: %s", st.Message())
	}
	return err
}
