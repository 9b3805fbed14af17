// Package diskcmd is the `disk` command of hvm-agent: it describes, maps,
// copies and verifies virtual disk files (VHD, VHDX and raw, chosen by
// content). The RunE functions only parse arguments; the work is in
// Describe, WriteExtents, Cat and Verify, which tests call directly.
package diskcmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"hvmigrate/shared/diskfile"
)

// New returns the `disk` command tree: info, extents, cat and verify.
func New() *cobra.Command {
	o := DefaultOptions()
	cmd := &cobra.Command{
		Use:   "disk",
		Short: "Inspect, copy and verify virtual disk files (VHD, VHDX, raw)",
	}
	p := cmd.PersistentFlags()
	p.IntVar(&o.ChunkSize, "chunk-size", o.ChunkSize, "bytes per read")
	p.IntVar(&o.Readers, "readers", o.Readers, "reads in flight")
	cmd.AddCommand(newInfo(), newExtents(), newCat(&o), newVerify(&o))
	return cmd
}

func newInfo() *cobra.Command {
	return &cobra.Command{
		Use:   "info FILE",
		Short: "Print format, sizes, identity, parent chain and allocated bytes as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := diskfile.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			info, err := Describe(img)
			if err != nil {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), info)
		},
	}
}

func newExtents() *cobra.Command {
	return &cobra.Command{
		Use:   "extents FILE",
		Short: "Print the extent map as JSON lines (offset, length, kind)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := diskfile.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			return WriteExtents(img, cmd.OutOrStdout())
		},
	}
}

func newCat(o *Options) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "cat FILE",
		Short: "Write the virtual disk as raw bytes to stdout or --output (sparse when it is a file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := diskfile.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			w := cmd.OutOrStdout()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return Cat(contextOf(cmd), img, w, *o)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

func newVerify(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Open the whole chain, walk every extent and read every data byte; fail on any problem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := diskfile.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			r := Verify(contextOf(cmd), img, *o)
			if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if !r.OK() {
				return fmt.Errorf("verify %s: %d problems", args[0], len(r.Problems)+r.Dropped)
			}
			return nil
		},
	}
}

// contextOf is the command's context, or Background when run without one.
func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
