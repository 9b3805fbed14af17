// Command applybench measures the hub's applier against Azurite over HTTPS
// and prints each figure beside a baseline from the same run:
//
//   - apply throughput of a cycle's delta object (download to the spool,
//     verify, write), against a bare loop of parallel 4 MiB Put Page calls
//     with the same number of requests in flight, to the same Azurite;
//   - peak RSS and heap of the process applying the object, against the
//     bare loop's.
//
// Each measured side runs in a child process (this binary again), so its
// peak RSS is its own. It is run by bench/apply.sh; it lives beside the
// applier because only hub code may import the hub's internal packages.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if mode := os.Getenv(childMode); mode != "" {
		os.Exit(childMain(mode))
	}
	mib := flag.Int64("mib", 1024, "data bytes of the delta object, in MiB")
	inflight := flag.Int("inflight", 8, "requests in flight, ours and the baseline's")
	runs := flag.Int("runs", 2, "timed runs of each side; the best counts")
	dir := flag.String("dir", os.TempDir(), "scratch directory")
	streams := flag.Int("fetch-streams", 0, "applier FetchStreams (0: its default)")
	chunkMiB := flag.Int64("fetch-mib", 0, "applier FetchChunk in MiB (0: its default)")
	flag.Parse()
	if err := run(*mib<<20, *inflight, *runs, *dir, *streams, *chunkMiB<<20); err != nil {
		fmt.Fprintln(os.Stderr, "applybench:", err)
		os.Exit(1)
	}
}

// run prepares the object, runs both sides alternately and prints.
func run(size int64, inflight, runs int, dir string, streams int, chunk int64) error {
	ctx := context.Background()
	b, err := newBench(ctx, dir, size, inflight)
	if err != nil {
		return err
	}
	b.spec.FetchStreams, b.spec.FetchChunk = streams, chunk
	defer b.close()
	if err := b.prepare(ctx); err != nil {
		return err
	}
	var ours, base, get, both childResult
	for i := range runs {
		o, err := b.child(ctx, "apply", i)
		if err != nil {
			return err
		}
		p, err := b.child(ctx, "bare", i)
		if err != nil {
			return err
		}
		g, err := b.child(ctx, "get", i)
		if err != nil {
			return err
		}
		w, err := b.child(ctx, "overlap", i)
		if err != nil {
			return err
		}
		ours, base, get, both = best(ours, o), best(base, p), best(get, g), best(both, w)
	}
	if err := b.spotCheck(ctx, runs-1); err != nil {
		return err
	}
	report(size, inflight, ours, base, get, both)
	return nil
}

// report prints the figures.
func report(size int64, inflight int, ours, base, get, both childResult) {
	mb := func(s float64) float64 { return float64(size) / 1e6 / s }
	fmt.Printf("apply throughput of a %d MiB delta object (MB/s): ours %.1f, baseline %.1f (bare loop of %d parallel 4 MiB Put Page), ratio %.2f (target >= 0.90)\n",
		size>>20, mb(ours.Seconds), mb(base.Seconds), inflight, mb(ours.Seconds)/mb(base.Seconds))
	floor := get.Seconds + base.Seconds
	fmt.Printf("apply throughput against reading the object once, then writing it (MB/s): ours %.1f, baseline %.1f (bare ranged GET of the object + the bare Put Page loop), ratio %.2f\n",
		mb(ours.Seconds), mb(floor), floor/ours.Seconds)
	fmt.Printf("ceiling of reading while writing (MB/s): bare ranged GET and bare Put Page loop at once %.1f, ratio to the bare loop %.2f\n",
		mb(both.Seconds), base.Seconds/both.Seconds)
	fmt.Printf("write phase alone (MB/s): ours %.1f (download %.2f s and verify %.2f s excluded), baseline %.1f (bare Put Page loop), ratio %.2f\n",
		mb(ours.Write), ours.Download, ours.Verify, mb(base.Seconds), base.Seconds/ours.Write)
	gib := float64(size) / (1 << 30)
	fmt.Printf("process CPU per GiB (s): ours %.2f, baseline %.2f (bare Put Page loop), ratio %.2f; bare GET %.2f\n",
		ours.CPU/gib, base.CPU/gib, ours.CPU/base.CPU, get.CPU/gib)
	fmt.Printf("apply peak RSS (MiB): ours %.0f, baseline %.0f (bare loop), ratio %.2f (target: ours < 128)\n",
		ours.RSSMiB, base.RSSMiB, ours.RSSMiB/base.RSSMiB)
	fmt.Printf("apply heap (MiB): ours heap-sys peak %.0f, total allocated %.0f; baseline heap-sys peak %.0f, total allocated %.0f\n",
		ours.HeapSysMiB, ours.AllocMiB, base.HeapSysMiB, base.AllocMiB)
}

// best keeps the faster result, and the larger memory figures.
func best(a, b childResult) childResult {
	out := b
	if a.Seconds > 0 && a.Seconds < b.Seconds {
		out = a
	}
	out.RSSMiB = max(a.RSSMiB, b.RSSMiB)
	out.HeapSysMiB = max(a.HeapSysMiB, b.HeapSysMiB)
	out.AllocMiB = max(a.AllocMiB, b.AllocMiB)
	out.CPU = max(a.CPU, b.CPU)
	return out
}

// childResult is what a child reports on stdout as JSON, plus its RSS.
type childResult struct {
	Seconds    float64
	Download   float64 // applier phases, seconds
	Verify     float64
	Write      float64
	HeapSysMiB float64
	AllocMiB   float64
	RSSMiB     float64
	CPU        float64 // user + system seconds of the child
}

// spec tells a child where to work.
type spec struct {
	Endpoint string
	Account  string
	CAFile   string
	Spool    string
	Size     int64
	InFlight int
	Run      int
	// FetchStreams and FetchChunk tune the applier's spool copy.
	FetchStreams int
	FetchChunk   int64
	VMID         [16]byte
	DiskID       [16]byte
}

func (s spec) replica(run int) string  { return fmt.Sprintf("bench/replica-%d.vhd", run) }
func (s spec) bareBlob(run int) string { return fmt.Sprintf("bench/bare-%d.vhd", run) }
func (s spec) deltaBlob() string       { return "bench/deltas/1" }
func (s spec) encode() ([]byte, error) { return json.Marshal(s) }
func spoolDir(dir string) string       { return filepath.Join(dir, "spool") }
func (s spec) virtualSize() int64      { return s.Size + 1536 } // not a whole MiB
