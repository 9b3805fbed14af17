package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hvmigrate/integration/simhost"
	"hvmigrate/shared/hrl"
)

// maxExplained bounds the differing ranges a mismatch report lists.
const maxExplained = 12

// explainMismatch localises a recovery point's difference from its source
// when the simulated host kept copies (Options.KeepSwitchLogs): the
// frozen disk of the VM's first checkpoint replayed with the kept logs of
// switches 1..hostSwitch is the source at that switch (the report says
// whether its checksum agrees with the host's); the point is compared with
// it byte for byte, and each differing range is listed with what the base
// copy (the VM's first point) holds there and the logged writes that
// cover it. It returns "" when nothing was kept.
func (c *Cluster) explainMismatch(vm simhost.VM, points []Point, want simhost.DiskChecksum, name, snapshot string, hostSwitch uint64) string {
	vmDir := filepath.Join(c.Dir, "vms", vm.ID)
	index := want.Index
	ck, _ := filepath.Glob(filepath.Join(vmDir, "keep", fmt.Sprintf("checkpoint-*-disk%d.raw", index)))
	if len(ck) != 1 {
		return ""
	}
	frozen, err := os.ReadFile(ck[0])
	if err != nil || int64(len(frozen)) != want.Size {
		return fmt.Sprintf("  (kept frozen copy %s: %d bytes, %v)", ck[0], len(frozen), err)
	}
	var logs []string
	for k := uint64(1); k <= hostSwitch; k++ {
		ls, _ := simhost.KeptSwitchLogs(vmDir, k, index)
		if len(ls) == 0 {
			return fmt.Sprintf("  (no kept log of switch %d)", k)
		}
		logs = append(logs, ls...)
	}
	src := bytes.Clone(frozen)
	if err := replayLogs(src, logs); err != nil {
		return "  (cannot replay the kept logs: " + err.Error() + ")"
	}
	var b strings.Builder
	sum := sha256.Sum256(src)
	if hex.EncodeToString(sum[:]) == want.SHA256 {
		fmt.Fprintf(&b, "  the kept frozen copy and %d logs replay to the host's checksum at switch %d", len(logs), hostSwitch)
	} else {
		fmt.Fprintf(&b, "  the kept frozen copy and %d logs replay to %x, NOT the host's checksum at switch %d: the host's disk and its logs disagree",
			len(logs), sum, hostSwitch)
	}
	got, err := c.blobBytes(name, snapshot, want.Size)
	if err != nil {
		return b.String() + "\n  (cannot read the point: " + err.Error() + ")"
	}
	var base []byte
	if len(points) > 0 {
		for _, d := range points[0].Disks {
			if strings.EqualFold(d.DiskID, want.DiskID) {
				base, _ = c.blobBytes(name, d.Snapshot, want.Size)
			}
		}
	}
	if base != nil {
		fmt.Fprintf(&b, "\n  base copy (point %d) against the frozen disk: %d differing ranges %s", points[0].ID,
			len(diffRuns(base, frozen, 512)), firstRuns(diffRuns(base, frozen, 512)))
	}
	runs := diffRuns(got, src, 512)
	if len(runs) > 0 {
		// The point's bytes stay beside the cluster logs for a closer look.
		dump := filepath.Join(c.LogDir, fmt.Sprintf("point-%s-disk%d-switch%d.raw", vm.Name, index, hostSwitch))
		if err := os.WriteFile(dump, got, 0o600); err == nil {
			fmt.Fprintf(&b, "\n  the point's bytes are in %s", dump)
		}
		if base != nil {
			dump := filepath.Join(c.LogDir, fmt.Sprintf("point-%s-disk%d-base.raw", vm.Name, index))
			if err := os.WriteFile(dump, base, 0o600); err == nil {
				fmt.Fprintf(&b, "\n  the base point's bytes are in %s", dump)
			}
		}
	}
	fmt.Fprintf(&b, "\n  point against the replayed source: %d differing ranges (512-byte sectors):", len(runs))
	for i, r := range runs {
		if i == maxExplained {
			fmt.Fprintf(&b, "\n  ... %d more", len(runs)-i)
			break
		}
		fmt.Fprintf(&b, "\n  [%d, +%d): point %s; point starts %x, ends %x; source starts %x", r[0], r[1]-r[0],
			describe(got, src, base, frozen, r), got[r[0]:min(r[0]+32, r[1])], got[max(r[1]-32, r[0]):r[1]], src[r[0]:min(r[0]+16, r[1])])
		if g := got[r[0]:min(r[0]+64, r[1])]; !isZero(g) && i == 0 {
			fmt.Fprintf(&b, "\n      its first bytes are found in: %v", c.findBytes(g))
		}
		for _, w := range loggedWrites(logs, r[0], r[1], want.Size) {
			fmt.Fprintf(&b, "\n      %s", w)
		}
	}
	return b.String()
}

// replayLogs applies the logs, in chain order, to the raw image img.
func replayLogs(img []byte, logs []string) error {
	co := hrl.NewCoalescer()
	var opened []*hrl.Log
	defer func() {
		for _, l := range opened {
			l.Close()
		}
	}()
	for _, p := range logs {
		opts := hrl.DefaultOptions()
		opts.DiskSize = int64(len(img))
		l, err := hrl.Open(p, opts)
		if err != nil {
			return err
		}
		opened = append(opened, l)
		if err := co.Add(l); err != nil {
			return err
		}
	}
	w := &sliceWriter{b: img}
	_, err := co.ApplyTo(w)
	return err
}

// sliceWriter writes into a byte slice at offsets.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(w.b)) {
		return 0, fmt.Errorf("write [%d, +%d) past %d bytes", off, len(p), len(w.b))
	}
	return copy(w.b[off:], p), nil
}

// describe tells what a differing range of the point holds.
func describe(got, src, base, frozen []byte, r [2]int64) string {
	g := got[r[0]:r[1]]
	var parts []string
	if isZero(g) {
		parts = append(parts, "zeros")
	}
	if base != nil && bytes.Equal(g, base[r[0]:r[1]]) {
		parts = append(parts, "= the base copy")
	}
	if bytes.Equal(g, frozen[r[0]:r[1]]) {
		parts = append(parts, "= the frozen disk")
	}
	if bytes.Equal(src[r[0]:r[1]], frozen[r[0]:r[1]]) {
		parts = append(parts, "source = the frozen disk")
	}
	if len(parts) == 0 {
		return "holds other bytes"
	}
	return strings.Join(parts, ", ")
}

func isZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// diffRuns returns the [start, end) ranges, in units of sector bytes, where
// a and b differ.
func diffRuns(a, b []byte, sector int64) [][2]int64 {
	var out [][2]int64
	n := int64(min(len(a), len(b)))
	for off := int64(0); off < n; off += sector {
		end := min(off+sector, n)
		if bytes.Equal(a[off:end], b[off:end]) {
			continue
		}
		if k := len(out); k > 0 && out[k-1][1] == off {
			out[k-1][1] = end
		} else {
			out = append(out, [2]int64{off, end})
		}
	}
	return out
}

// firstRuns renders the first few ranges.
func firstRuns(runs [][2]int64) string {
	var parts []string
	for i, r := range runs {
		if i == 4 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("[%d, +%d)", r[0], r[1]-r[0]))
	}
	return strings.Join(parts, " ")
}

// loggedWrites lists the writes of the logs that overlap [lo, hi), in
// replay order.
func loggedWrites(logs []string, lo, hi, size int64) []string {
	var out []string
	for _, p := range logs {
		opts := hrl.DefaultOptions()
		opts.DiskSize = size
		l, err := hrl.Open(p, opts)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", filepath.Base(p), err))
			continue
		}
		for e, err := range l.Entries() {
			if err != nil {
				out = append(out, fmt.Sprintf("%s: %v", filepath.Base(p), err))
				break
			}
			if e.DiskOffset() < hi && e.DiskOffset()+e.Length() > lo {
				out = append(out, fmt.Sprintf("%s block %d slot %d: write [%d, +%d)",
					filepath.Base(p), e.Block, e.Slot, e.DiskOffset(), e.Length()))
			}
		}
		l.Close()
	}
	if len(out) == 0 {
		out = append(out, "no kept log covers the range")
	}
	return out
}

// blobBytes reads the first size bytes of a blob (of a snapshot when
// snapshot is set) in the project's replicas container.
func (c *Cluster) blobBytes(name, snapshot string, size int64) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(int(size))
	if err := c.copyBlob(&out, name, snapshot, size); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// findBytes lists the blobs of the project's cycles container that hold
// needle, with the offset: the source of foreign bytes in a replica.
func (c *Cluster) findBytes(needle []byte) []string {
	admin, err := c.Storage.Client()
	if err != nil {
		return []string{err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out []string
	ctr := "cyc-" + c.Project
	pager := admin.NewListBlobsFlatPager(ctr, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return append(out, err.Error())
		}
		for _, it := range page.Segment.BlobItems {
			r, err := admin.DownloadStream(ctx, ctr, *it.Name, nil)
			if err != nil {
				continue
			}
			b, err := io.ReadAll(r.Body)
			r.Body.Close()
			if err != nil {
				continue
			}
			if i := bytes.Index(b, needle); i >= 0 {
				out = append(out, fmt.Sprintf("%s at %d", *it.Name, i))
			}
		}
	}
	return out
}
