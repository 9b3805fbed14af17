package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"hvmigrate/agent/internal/hostlimits"
	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/throttle"
	"hvmigrate/agent/internal/transfer"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/cmdline"
	"hvmigrate/shared/secret"
	"hvmigrate/shared/units"
)

// copyConfig is what `hvm-agent copy` was asked to do.
type copyConfig struct {
	threads   int
	limit     string
	state     string
	endpoint  string
	storageCA string
	quiet     bool
	tryTime   time.Duration
	cpuProf   string
}

func newCopyCommand(lf *cmdline.LogFlags) *cobra.Command {
	cfg := copyConfig{threads: hostlimits.DefaultThreads, limit: "unlimited", state: defaultCopyState()}
	cmd := &cobra.Command{
		Use:   "copy [flags] DISK URL",
		Short: "Upload a disk (VHD, VHDX, AVHDX chain or raw) to a page blob as a fixed-VHD replica",
		Long: `Upload any supported disk to an Azure page blob as a fixed-VHD replica: the
blob holds the virtual disk rounded up to a whole MiB, then the 512-byte VHD
footer. Only allocated, non-zero ranges are sent. URL is the page blob's URL
with a SAS that allows writing it. Run the same command again to resume an
interrupted copy; only the chunks that were in flight are sent again.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := lf.Logger("hvm-agent", cmd.ErrOrStderr())
			if err != nil {
				return cmdline.Usage(err)
			}
			return runCopy(cmd.Context(), log, cfg, args[0], secret.New(args[1]), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.threads, "threads", cfg.threads, "requests in flight, 1 to 32")
	f.StringVar(&cfg.limit, "limit", cfg.limit, "bandwidth limit, e.g. 100Mbps, or unlimited")
	f.StringVar(&cfg.state, "state", cfg.state, "file that records progress so an interrupted copy resumes")
	f.StringVar(&cfg.endpoint, "endpoint", "", "storage account endpoint (default: taken from URL)")
	f.StringVar(&cfg.storageCA, "storage-ca", "", "PEM file of CA certificates to trust instead of the system's")
	f.BoolVar(&cfg.quiet, "quiet", false, "no progress bar")
	f.DurationVar(&cfg.tryTime, "try-timeout", 0, "bound of one storage request (default: sized from --limit)")
	f.StringVar(&cfg.cpuProf, "cpu-profile", "", "write a Go CPU profile of the copy to this file")
	return cmd
}

func runCopy(ctx context.Context, log hclog.Logger, cfg copyConfig, disk string, target secret.String, stdout, stderr io.Writer) error {
	if cfg.threads < 1 || cfg.threads > hostlimits.MaxThreads {
		return cmdline.Usage(fmt.Errorf("--threads %d: want 1 to %d", cfg.threads, hostlimits.MaxThreads))
	}
	bw, err := units.ParseBandwidth(cfg.limit)
	if err != nil {
		return cmdline.Usage(fmt.Errorf("--limit: %w", err))
	}
	endpoint := cfg.endpoint
	if endpoint == "" {
		if endpoint, err = endpointOf(target); err != nil {
			return cmdline.Usage(err)
		}
	}
	abs, err := filepath.Abs(disk)
	if err != nil {
		return err
	}
	store, err := jobstore.Open(cfg.state)
	if err != nil {
		return err
	}
	defer store.Close()
	tcfg := transfer.DefaultConfig()
	tcfg.Endpoint = endpoint
	tcfg.TryTimeout = cfg.tryTime
	if tcfg.TryTimeout == 0 {
		tcfg.TryTimeout = tryTimeoutFor(bw)
	}
	if tcfg.RootCAs, err = loadCAs(cfg.storageCA); err != nil {
		return err
	}
	tc := throttle.DefaultConfig()
	tc.Schedule = units.Schedule{WorkHours: bw, OffHours: bw}
	lim, err := throttle.New(tc)
	if err != nil {
		return err
	}
	defer lim.Close()
	threads := func(int) int { return cfg.threads }
	runner := transfer.New(tcfg, lim, threads, log.Named("copy"))
	prog := &upload.Progress{}
	spec := jobs.InitialCopy{DiskPath: abs, Target: target, Threads: cfg.threads}
	if cfg.cpuProf != "" {
		stop, err := startCPUProfile(cfg.cpuProf)
		if err != nil {
			return err
		}
		defer stop()
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Buffers in flight are bounded (64 MiB at most); a soft limit keeps
		// the garbage collector from letting the heap double past them.
		debug.SetMemoryLimit(80 << 20)
	}
	stopBar := showProgress(ctx, prog, cfg.quiet, stderr)
	started, cpu0 := time.Now(), cpuTime()
	err = runner.RunInitialCopy(ctx, spec, store.Journal(copyJobID(abs, target)), prog)
	stopBar(err == nil)
	if err != nil {
		return fmt.Errorf("copy %s: %w (run the same command again to resume)", disk, err)
	}
	printCopySummary(stdout, prog.Snapshot(time.Now()), time.Since(started), cpuTime()-cpu0)
	return nil
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// tryTimeoutFor gives one storage request (at most a 4 MiB body) three
// times as long as it takes at the limit, and at least 30 seconds.
func tryTimeoutFor(b units.Bandwidth) time.Duration {
	if b.IsUnlimited() {
		return 30 * time.Second
	}
	body := time.Duration(float64(4<<20) / b.BytesPerSecond() * float64(time.Second))
	return max(30*time.Second, 3*body)
}

// endpointOf guesses the account endpoint of a blob URL: the host for
// Azure's host-style URLs, the host and account segment for path-style
// ones (emulators on an IP address or localhost).
func endpointOf(target secret.String) (string, error) {
	u, err := url.Parse(target.Reveal())
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("URL does not parse as a blob URL")
	}
	host := u.Hostname()
	if host == "localhost" || strings.Trim(host, "0123456789.:[]") == "" {
		account, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		return u.Scheme + "://" + u.Host + "/" + account, nil
	}
	return u.Scheme + "://" + u.Host, nil
}

// copyJobID names the journal of one disk-to-blob copy.
func copyJobID(disk string, target secret.String) string {
	u := target.Reveal()
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	sum := sha256.Sum256([]byte(disk + "\n" + u))
	return "copy-" + hex.EncodeToString(sum[:12])
}

func defaultCopyState() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "hvmigrate", "copy.db")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "hvmigrate", "copy.db")
	}
	return filepath.Join(os.TempDir(), "hvmigrate-copy.db")
}

func printCopySummary(w io.Writer, s upload.Snapshot, took time.Duration, cpu time.Duration) {
	rate := float64(s.Sent) / took.Seconds()
	fmt.Fprintf(w, "copied %s of disk in %s: read %s, skipped %s (unallocated or zero), sent %s at %s/s, %d retries, CPU %.2fs (%.2fs per GiB of disk), peak RSS %s\n",
		human(s.Total), took.Round(time.Millisecond), human(s.Read), human(s.Skipped),
		human(s.Sent), human(int64(rate)), s.Retries, cpu.Seconds(), cpu.Seconds()/(float64(max(s.Total, 1))/(1<<30)),
		human(peakRSS()))
}

// human prints a byte count with one decimal in the largest binary unit.
func human(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
