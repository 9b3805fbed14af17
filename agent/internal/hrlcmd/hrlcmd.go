// Package hrlcmd is the `hrl` command of hvm-agent: it dumps, verifies and
// coalesces Hyper-V Replica Log files for operators and tests. The RunE
// functions only parse arguments; the work is in Dump, Verify and Extents.
package hrlcmd

import (
	"github.com/spf13/cobra"

	"hvmigrate/shared/hrl"
)

// flags are the reader options every subcommand shares.
type flags struct {
	diskSize       int64
	sectorSize     int
	allowUnaligned bool
	allowErrorCode bool
	lenient        bool
	dataWriteGUID  string
}

// options converts the flags into reader options.
func (f *flags) options() (hrl.Options, error) {
	o := hrl.DefaultOptions()
	o.DiskSize = f.diskSize
	o.SectorSize = f.sectorSize
	o.AllowUnaligned = f.allowUnaligned
	o.AllowErrorCode = f.allowErrorCode
	if f.lenient {
		o.EntryChecksum = hrl.EntryChecksumLenient
	}
	if f.dataWriteGUID != "" {
		g, err := hrl.ParseGUID(f.dataWriteGUID)
		if err != nil {
			return o, err
		}
		o.ExpectedDataWriteGUID = g
	}
	return o, nil
}

// New returns the `hrl` command tree: dump, verify and extents.
func New() *cobra.Command {
	f := &flags{}
	cmd := &cobra.Command{
		Use:   "hrl",
		Short: "Inspect Hyper-V Replica Log (.hrl) files",
	}
	p := cmd.PersistentFlags()
	p.Int64Var(&f.diskSize, "disk-size", 0, "virtual disk size in bytes; writes past it are errors (0: unknown)")
	p.IntVar(&f.sectorSize, "sector-size", hrl.DefaultSectorSize, "logical sector size writes must be aligned to")
	p.BoolVar(&f.allowUnaligned, "allow-unaligned", false, "accept writes not aligned to the sector size")
	p.BoolVar(&f.allowErrorCode, "allow-error-code", false, "accept a header with a non-zero ErrorCode")
	p.BoolVar(&f.lenient, "lenient-entry-checksum", false, "also accept entry checksums that leave DataChecksum out")
	p.StringVar(&f.dataWriteGUID, "expect-data-write-guid", "", "reject logs whose Vhd2DataWriteGuid differs (8-4-4-4-12 text)")
	cmd.AddCommand(newDump(f), newVerify(f), newExtents(f))
	return cmd
}

func newDump(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:   "dump FILE",
		Short: "Print the header, blocks and entries of a log as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return Dump(cmd.OutOrStdout(), args[0], o)
		},
	}
}

func newVerify(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Validate a log and its data checksums; exit non-zero on the first problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return Verify(cmd.OutOrStdout(), args[0], o)
		},
	}
}

func newExtents(f *flags) *cobra.Command {
	return &cobra.Command{
		Use:   "extents FILE...",
		Short: "Coalesce a chain of logs (oldest first) and print the surviving extents as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := f.options()
			if err != nil {
				return err
			}
			cmd.SilenceUsage = true
			return Extents(cmd.OutOrStdout(), args, o)
		},
	}
}
