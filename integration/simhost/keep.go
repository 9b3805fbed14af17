package simhost

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"hvmigrate/shared/vdisk"
)

// keepDir holds the copies Config.KeepThrough asks for, in a VM's folder.
const keepDir = "keep"

// KeptCheckpointImage is where a daemon with Config.KeepThrough keeps the
// raw copy of frozen disk index of the VM's checkpoint ckptID.
func KeptCheckpointImage(vmDir, ckptID string, index int) string {
	return filepath.Join(vmDir, keepDir, fmt.Sprintf("checkpoint-%s-disk%d.raw", ckptID, index))
}

// KeptSwitchLogs lists, oldest first, the copies a daemon with
// Config.KeepThrough keeps of the logs switch n of the VM in vmDir handed
// out for disk index.
func KeptSwitchLogs(vmDir string, n uint64, index int) ([]string, error) {
	return filepath.Glob(filepath.Join(vmDir, keepDir, fmt.Sprintf("switch-%06d-disk%d-*.hrl", n, index)))
}

// keepWanted reports whether switch n (or a checkpoint made when the last
// switch was n-1) falls in the kept range.
func (v *vm) keepWanted(n uint64) bool {
	return v.cfg.KeepThrough > 0 && n <= v.cfg.KeepThrough
}

// keepCheckpoint copies the frozen disks of a new checkpoint; v.mu must
// be held exclusively. A failure is only logged: the copies are for
// diagnosis and must not change what the daemon does.
func (v *vm) keepCheckpoint(ckptID string) {
	if !v.keepWanted(v.rec.Tracking.LastSwitch + 1) {
		return
	}
	for i, dk := range v.disks {
		img, err := openImage(v.path(dk.rec.Frozen))
		if err == nil {
			err = writeRaw(img, KeptCheckpointImage(v.dir, ckptID, i))
			img.Close()
		}
		if err != nil {
			v.log.Warn("keeping a copy of a frozen disk", "disk", i, "error", err)
		}
	}
}

// keepSwitch copies the logs switch n hands out (the frozen copy and the
// logs of switches 1..n replay to the disk at switch n); v.mu must be held
// exclusively, after the logs were closed and before they are handed out.
// Only the logs are copied, which takes little time under the lock. A
// failure is only logged.
func (v *vm) keepSwitch(n uint64) {
	if !v.keepWanted(n) {
		return
	}
	for i, dk := range v.disks {
		for _, p := range dk.rec.Log.Pending {
			dst := filepath.Join(v.dir, keepDir, fmt.Sprintf("switch-%06d-disk%d-%s", n, i, filepath.Base(p)))
			if err := copyKeptFile(v.path(p), dst); err != nil {
				v.log.Warn("keeping a copy of a log at a switch", "switch", n, "disk", i, "error", err)
			}
		}
	}
}

// writeRaw writes img's virtual content to a new sparse raw file at path.
func writeRaw(img vdisk.Image, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(img.Size()); err != nil {
		return err
	}
	// The extents are listed first: a Writer is locked while it lists them.
	var exts []vdisk.Extent
	for e, err := range img.Extents() {
		if err != nil {
			return err
		}
		exts = append(exts, e)
	}
	buf := make([]byte, 1<<20)
	for _, e := range exts {
		if e.Kind != vdisk.KindData {
			continue
		}
		if _, err := io.CopyBuffer(io.NewOffsetWriter(f, e.Offset), io.NewSectionReader(img, e.Offset, e.Length), buf); err != nil {
			return fmt.Errorf("copy [%d, +%d): %w", e.Offset, e.Length, err)
		}
	}
	return f.Close()
}

// copyKeptFile copies src to a new file dst.
func copyKeptFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
