package cli

import (
	"bytes"
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"hvmigrate/integration/simhost"
	"hvmigrate/integration/simhost/client"
	"hvmigrate/shared/diskfile"
	"hvmigrate/shared/vdisk"
)

// importChunk is the largest guest write an import makes.
const importChunk = 4 << 20

func newImportCommand(g *globals) *cobra.Command {
	var disk int
	cmd := &cobra.Command{
		Use:   "import VM IMAGE [--disk N]",
		Short: "Write a disk image's contents into a running VM's disk, as guest writes",
		Long: `Write the content of IMAGE (VHDX, VHD or raw) into one disk of a running VM,
as the guest would: only the image's allocated, non-zero data is written, in
writes of at most 4 MiB, and every write is tracked like any other guest
write. The image must not be larger than the VM's disk.`,
		Example: `  hvm-simhost import web01 rootfs.vhdx --disk 0`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.run(cmd, func(ctx context.Context, c *client.Client) error {
				vm, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				n, err := importImage(ctx, c, vm, disk, args[1])
				if err != nil {
					return err
				}
				return g.emit(cmd.OutOrStdout(), map[string]any{"vm_id": vm.ID, "disk": disk, "bytes_written": n}, func() {
					fmt.Fprintf(cmd.OutOrStdout(), "imported %s into disk %d of %s: %d bytes written\n", args[1], disk, vm.Name, n)
				})
			})
		},
	}
	cmd.Flags().IntVar(&disk, "disk", 0, "disk index")
	return cmd
}

// importImage writes the allocated non-zero data of the image at path
// into disk of vm and returns the bytes written.
func importImage(ctx context.Context, c *client.Client, vm simhost.VM, disk int, path string) (int64, error) {
	if disk < 0 || disk >= len(vm.Disks) {
		return 0, fmt.Errorf("vm %s has no disk %d", vm.Name, disk)
	}
	img, err := diskfile.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open image: %w", err)
	}
	defer img.Close()
	if img.Size() > vm.Disks[disk].Size {
		return 0, fmt.Errorf("image %s is %d bytes, larger than disk %d (%d bytes)", path, img.Size(), disk, vm.Disks[disk].Size)
	}
	buf := make([]byte, importChunk)
	var written int64
	for e, err := range img.Extents() {
		if err != nil {
			return written, fmt.Errorf("read image: %w", err)
		}
		if e.Kind != vdisk.KindData {
			continue
		}
		for off := e.Offset; off < e.End(); off += importChunk {
			b := buf[:min(importChunk, e.End()-off)]
			if _, err := img.ReadAt(b, off); err != nil {
				return written, fmt.Errorf("read image at %d: %w", off, err)
			}
			if isZero(b) {
				continue
			}
			if err := c.WriteDisk(ctx, simhost.WriteRequest{VMID: vm.ID, Disk: disk, Offset: off, Data: b}); err != nil {
				return written, fmt.Errorf("write disk %d at %d: %w", disk, off, err)
			}
			written += int64(len(b))
		}
	}
	return written, nil
}

func isZero(b []byte) bool {
	var zero [4096]byte
	for len(b) > 0 {
		n := min(len(b), len(zero))
		if !bytes.Equal(b[:n], zero[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
