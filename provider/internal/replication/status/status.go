// Package status renders the provider's local view of replication, read
// from the state store: each VM's phase, copy progress, last cycle,
// achieved RPO and pending change-log bytes.
package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/store"
)

// Load reads every VM's state from the store file at path, read-only. The
// running provider holds the file's lock, so this waits at most timeout
// and then fails naming the file.
func Load(path string, timeout time.Duration) ([]replication.State, error) {
	cfg := store.DefaultConfig(path)
	cfg.ReadOnly, cfg.LockTimeout = true, timeout
	st, err := store.Open(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w (is the provider running? it holds the store while it runs)", err)
	}
	defer st.Close()
	return st.List()
}

// Render writes one line per VM.
func Render(w io.Writer, states []replication.State, now time.Time) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VM\tPHASE\tPROGRESS\tLAST CYCLE\tLAST SWITCH\tRPO (LAST/MAX)\tPENDING LOGS\tNOTE")
	for _, s := range states {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.VMID, s.Phase, progress(s), cycle(s),
			age(s.LastSwitchAt, now), rpo(s), bytesText(pending(s)), note(s, now))
	}
	return tw.Flush()
}

// progress is the copy progress of the generation being copied.
func progress(s replication.State) string {
	if s.CopyStage == "" {
		return "-"
	}
	var done, total int64
	copied := 0
	for _, d := range s.Disks {
		done, total = done+d.BytesDone, total+max(d.BytesTotal, d.Size)
		if d.Copy == replication.DiskCopied {
			copied++
		}
	}
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	return fmt.Sprintf("%.0f%% (%d/%d disks, %s)", pct, copied, len(s.Disks), s.CopyStage)
}

func cycle(s replication.State) string {
	out := fmt.Sprint(s.LastCycle)
	if c := s.InFlight; c != nil {
		out += fmt.Sprintf(" (%d %s)", c.Number, c.Stage)
	}
	return out
}

func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return now.Sub(t).Round(time.Second).String() + " ago"
}

func rpo(s replication.State) string {
	if s.LastRPO == 0 {
		return "-"
	}
	out := s.LastRPO.Round(time.Second).String() + "/" + s.MaxRPO.Round(time.Second).String()
	if s.Overruns > 0 {
		out += fmt.Sprintf(", %d late", s.Overruns)
	}
	return out
}

func pending(s replication.State) int64 {
	var n int64
	for _, d := range s.Disks {
		n += d.PendingLogBytes
	}
	return n
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func note(s replication.State, now time.Time) string {
	var parts []string
	if f := s.Failure; f != nil {
		parts = append(parts, fmt.Sprintf("%s; retry %d in %s", f.Reason, f.Attempts, f.NextRetry.Sub(now).Round(time.Second)))
	}
	if s.ResyncReason != "" {
		parts = append(parts, "resync: "+s.ResyncReason)
	}
	if s.Migrate != "" {
		parts = append(parts, "migration: "+string(s.Migrate))
	}
	return strings.Join(parts, "; ")
}
