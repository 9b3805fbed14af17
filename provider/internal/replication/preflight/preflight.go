// Package preflight checks, before replication of a VM starts, that the
// host can carry it: free space on the disks' volumes for the checkpoint's
// children and the change logs, no checkpoints of someone else's, and
// disks within the supported limits. It refuses or warns with a message
// that names the disk and the numbers.
package preflight

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"hvmigrate/provider/internal/host"
)

// ErrRefused means a check failed: replication must not start.
var ErrRefused = errors.New("preflight refused replication")

// Config holds the limits and reserves the checks apply.
type Config struct {
	// MaxDisks and MaxDiskSize are the supported limits.
	MaxDisks    int
	MaxDiskSize int64
	// CopyReserve is the share of each disk's size the checkpoint's child
	// may grow to while the initial copy runs; LogReserve the share the
	// change logs may take before a resync.
	CopyReserve float64
	LogReserve  float64
}

// DefaultConfig holds every default of the checks.
func DefaultConfig() Config {
	return Config{MaxDisks: 16, MaxDiskSize: 32 << 40, CopyReserve: 1.0, LogReserve: 0.5}
}

// Level says what a finding does.
type Level string

// Levels: a refusal blocks the enable; a warning is reported to the hub.
const (
	Refuse Level = "refuse"
	Warn   Level = "warn"
)

// Finding is one result of a check.
type Finding struct {
	Level   Level
	Message string
}

// Report is the result of every check.
type Report struct {
	Findings []Finding
}

// Err returns nil when nothing refuses, or an error wrapping ErrRefused
// that lists every refusal.
func (r Report) Err() error {
	var msgs []string
	for _, f := range r.Findings {
		if f.Level == Refuse {
			msgs = append(msgs, f.Message)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrRefused, strings.Join(msgs, "; "))
}

// Warnings lists the warnings.
func (r Report) Warnings() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Level == Warn {
			out = append(out, f.Message)
		}
	}
	return out
}

func (r *Report) add(l Level, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Level: l, Message: fmt.Sprintf(format, args...)})
}

// Check runs every check on vm.
func Check(vm host.VM, space Space, cfg Config) Report {
	var r Report
	switch {
	case len(vm.Disks) == 0:
		r.add(Refuse, "vm %s has no disks", vm.ID)
	case len(vm.Disks) > cfg.MaxDisks:
		r.add(Refuse, "vm %s has %d disks; at most %d are supported", vm.ID, len(vm.Disks), cfg.MaxDisks)
	}
	if vm.HasCheckpoints {
		r.add(Refuse, "vm %s has checkpoints (or an AVHDX chain) replication did not make: delete them first", vm.ID)
	}
	for _, d := range vm.Disks {
		if d.VirtualSize > cfg.MaxDiskSize {
			r.add(Refuse, "disk %s is %d GiB; disks over %d GiB are not supported", d.ID, d.VirtualSize>>30, cfg.MaxDiskSize>>30)
		}
	}
	checkSpace(&r, vm, space, cfg)
	return r
}

// volumeNeed is what the disks on one volume need.
type volumeNeed struct {
	vol        Volume
	copy, logs int64
	disks      []string
}

// checkSpace refuses when a volume cannot hold the checkpoint's children
// and warns when it cannot also hold the logs.
func checkSpace(r *Report, vm host.VM, space Space, cfg Config) {
	needs := map[string]*volumeNeed{}
	for _, d := range vm.Disks {
		dir := filepath.Dir(d.Path)
		vol, err := space.Volume(dir)
		if err != nil {
			r.add(Warn, "free space for disk %s not checked: %v", d.ID, err)
			continue
		}
		n := needs[vol.ID]
		if n == nil {
			n = &volumeNeed{vol: vol}
			needs[vol.ID] = n
		}
		n.copy += int64(float64(d.VirtualSize) * cfg.CopyReserve)
		n.logs += int64(float64(d.VirtualSize) * cfg.LogReserve)
		n.disks = append(n.disks, d.ID)
	}
	ids := make([]string, 0, len(needs))
	for id := range needs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		n := needs[id]
		switch {
		case n.vol.Free < n.copy:
			r.add(Refuse, "volume of disks %s has %d MiB free; the initial copy needs up to %d MiB (100%% of the disks) for the checkpoint",
				strings.Join(n.disks, ", "), n.vol.Free>>20, n.copy>>20)
		case n.vol.Free < n.copy+n.logs:
			r.add(Warn, "volume of disks %s has %d MiB free; the checkpoint and change logs may need up to %d MiB (150%% of the disks)",
				strings.Join(n.disks, ", "), n.vol.Free>>20, (n.copy+n.logs)>>20)
		}
	}
}
