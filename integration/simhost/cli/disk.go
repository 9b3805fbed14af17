package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/shared/cmdline"
)

func newWriteCommand(g *globals) *cobra.Command {
	var disk int
	var offset, length, file string
	var pattern uint8
	cmd := &cobra.Command{
		Use:   "write VM --offset OFF (--length LEN [--pattern BYTE] | --file PATH)",
		Short: "Perform one guest write on a running VM",
		Example: `  hvm-simhost write web01 --disk 0 --offset 1M --length 64k --pattern 0xab
  hvm-simhost write web01 --offset 0 --file boot-sector.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := writeRequest(disk, offset, length, file, pattern)
			if err != nil {
				return cmdline.Usage(err)
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				req.VMID = vm.ID
				if err := c.WriteDisk(ctx, req); err != nil {
					return err
				}
				n := max(req.Length, int64(len(req.Data)))
				return g.emit(cmd.OutOrStdout(), map[string]any{"vm_id": vm.ID, "disk": disk, "offset": req.Offset, "length": n}, func() {
					fmt.Fprintf(cmd.OutOrStdout(), "wrote %d bytes at %d on disk %d of %s\n", n, req.Offset, disk, vm.Name)
				})
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&disk, "disk", 0, "disk index")
	f.StringVar(&offset, "offset", "", "byte offset (sizes like 1M allowed), a multiple of the logical sector")
	f.StringVar(&length, "length", "", "bytes to write, filled with --pattern")
	f.Uint8Var(&pattern, "pattern", 0, "the byte value written with --length")
	f.StringVar(&file, "file", "", "write this file's bytes (a whole number of sectors)")
	return cmd
}

// writeRequest builds a write from the flags.
func writeRequest(disk int, offset, length, file string, pattern uint8) (simhost.WriteRequest, error) {
	if offset == "" || (length == "") == (file == "") {
		return simhost.WriteRequest{}, fmt.Errorf("give --offset and exactly one of --length or --file")
	}
	off, err := simhost.ParseSize(offset)
	if err != nil {
		return simhost.WriteRequest{}, fmt.Errorf("--offset: %w", err)
	}
	req := simhost.WriteRequest{Disk: disk, Offset: off, Pattern: pattern}
	if file != "" {
		if req.Data, err = os.ReadFile(file); err != nil {
			return req, err
		}
		return req, nil
	}
	if req.Length, err = simhost.ParseSize(length); err != nil {
		return req, fmt.Errorf("--length: %w", err)
	}
	return req, nil
}

func newWorkloadCommand(g *globals) *cobra.Command {
	var disks, sizes, rate, total, pattern string
	spec := simhost.WorkloadSpec{}
	cmd := &cobra.Command{
		Use:   "workload VM (--duration D | --total BYTES)",
		Short: "Run generated guest writes and show their progress (Ctrl-C ends them)",
		Example: `  hvm-simhost workload web01 --rate 50 --sizes 64k --duration 1m
  hvm-simhost workload web01 --sizes 4k:50,64k:40,1m:10 --overwrite 0.3 --total 2G --seed 7`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := workloadSpec(&spec, disks, sizes, rate, total, pattern); err != nil {
				return cmdline.Usage(err)
			}
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				return runWorkload(ctx, cmd, g, c, args[0], spec)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&disks, "disks", "", "comma-separated disk indexes (default: all)")
	f.StringVar(&pattern, "pattern", "random", "random or sequential")
	f.StringVar(&sizes, "sizes", "64k", "I/O size distribution SIZE:WEIGHT,...")
	f.StringVar(&rate, "rate", "0", "target rate in MB/s (10^6 bytes); 0 is unthrottled")
	f.DurationVar(&spec.Duration, "duration", 0, "how long to run")
	f.StringVar(&total, "total", "", "how many bytes to write")
	f.Float64Var(&spec.OverwriteRatio, "overwrite", 0, "fraction of writes aimed at regions already written, 0 to 1")
	f.Uint64Var(&spec.Seed, "seed", 1, "seed of offsets, sizes and data")
	return cmd
}

// workloadSpec fills spec from the workload flags.
func workloadSpec(spec *simhost.WorkloadSpec, disks, sizes, rate, total, pattern string) error {
	var err error
	if spec.Sizes, err = simhost.ParseIOSizes(sizes); err != nil {
		return fmt.Errorf("--sizes: %w", err)
	}
	mbps, err := strconv.ParseFloat(rate, 64)
	if err != nil || mbps < 0 {
		return fmt.Errorf("--rate %q: want MB/s, e.g. 50", rate)
	}
	spec.RateBytesPerSec, spec.Pattern = int64(mbps*1e6), simhost.Pattern(pattern)
	if total != "" {
		if spec.TotalBytes, err = simhost.ParseSize(total); err != nil {
			return fmt.Errorf("--total: %w", err)
		}
	}
	if spec.Duration <= 0 && spec.TotalBytes <= 0 {
		return fmt.Errorf("give --duration or --total (or both)")
	}
	for d := range strings.SplitSeq(disks, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		i, err := strconv.Atoi(d)
		if err != nil {
			return fmt.Errorf("--disks %q: want indexes like 0,2", disks)
		}
		spec.Disks = append(spec.Disks, i)
	}
	return nil
}

// runWorkload streams progress lines (text) or the final report (json).
func runWorkload(ctx context.Context, cmd *cobra.Command, g *globals, c *client.Client, ref string, spec simhost.WorkloadSpec) error {
	vm, err := resolve(ctx, c, ref)
	if err != nil {
		return err
	}
	spec.VMID = vm.ID
	out := cmd.OutOrStdout()
	show := func(p simhost.WorkloadProgress) {
		if g.output == "text" {
			fmt.Fprintf(out, "%8s  %8d writes  %10.1f MiB  %s\n", p.Elapsed.Round(100*time.Millisecond), p.Writes, float64(p.Bytes)/(1<<20), rateText(p.Rate()))
		}
	}
	p, err := c.RunWorkload(ctx, spec, show)
	if err != nil && ctx.Err() == nil {
		return err
	}
	report := map[string]any{"vm_id": vm.ID, "writes": p.Writes, "bytes": p.Bytes, "seconds": p.Elapsed.Seconds(),
		"achieved_bytes_per_second": p.Rate(), "target_bytes_per_second": spec.RateBytesPerSec}
	return g.emit(out, report, func() {
		target := "unthrottled"
		if spec.RateBytesPerSec > 0 {
			target = rateText(float64(spec.RateBytesPerSec))
		}
		fmt.Fprintf(out, "done: %d writes, %.1f MiB in %s: achieved %s, target %s\n", p.Writes, float64(p.Bytes)/(1<<20),
			p.Elapsed.Round(time.Millisecond), rateText(p.Rate()), target)
	})
}

func newChecksumCommand(g *globals) *cobra.Command {
	var sw uint64
	cmd := &cobra.Command{
		Use:   "checksum VM [--switch N]",
		Short: "SHA-256 of every disk's content now, or as recorded at log switch N",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				var cs []simhost.DiskChecksum
				if sw > 0 {
					cs, err = c.GetSwitchChecksums(ctx, vm.ID, sw)
				} else {
					cs, err = c.ChecksumDisks(ctx, vm.ID)
				}
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), cs, func() { printChecksums(cmd.OutOrStdout(), cs) })
			})
		},
	}
	cmd.Flags().Uint64Var(&sw, "switch", 0, "show the checksums recorded at this log switch")
	return cmd
}
