package simhost

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	recordFile    = "vm.json"
	recordVersion = 1
	switchesDir   = "switches"
)

// vmRecord is the persisted state of a VM (vm.json).
type vmRecord struct {
	Version      int             `json:"version"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Generation   int             `json:"generation"`
	CPUs         int             `json:"cpus"`
	MemoryBytes  int64           `json:"memory_bytes"`
	NICs         []NIC           `json:"nics"`
	Power        PowerState      `json:"power"`
	Disks        []*diskRecord   `json:"disks"`
	Checkpoint   *CheckpointInfo `json:"checkpoint,omitempty"`
	Tracking     trackingRecord  `json:"tracking"`
	NeedsResync  bool            `json:"needs_resync"`
	ResyncReason string          `json:"resync_reason,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

// diskRecord is one disk. Paths are relative to the VM directory.
type diskRecord struct {
	ID                string     `json:"id"`
	Format            DiskFormat `json:"format"`
	Size              int64      `json:"size"`
	LogicalSectorSize int        `json:"logical_sector_size"`
	Base              string     `json:"base"`
	Top               string     `json:"top"`
	// Frozen is the read-only parent while a checkpoint exists.
	Frozen string    `json:"frozen,omitempty"`
	Log    logRecord `json:"log"`
}

// logRecord is a disk's change tracking log chain.
type logRecord struct {
	// Seq numbers log files; the next log is disk_<Seq+1>.hrl.
	Seq int `json:"seq"`
	// Current is the open log, empty when tracking is off.
	Current   string `json:"current,omitempty"`
	CurrentID string `json:"current_id,omitempty"`
	// LastClosedID is the UniqueId of the newest closed log of the chain.
	LastClosedID string `json:"last_closed_id,omitempty"`
	// Pending are logs closed but not yet handed out by a switch.
	Pending []string `json:"pending,omitempty"`
}

type trackingRecord struct {
	Enabled    bool      `json:"enabled"`
	LastSwitch uint64    `json:"last_switch"`
	StartedAt  time.Time `json:"started_at,omitzero"`
}

// writeJSONAtomic writes v to path through a synced temporary file and a
// rename, then syncs the directory, so a crash leaves the old or the new
// file, never a torn one.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename or creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !isSyncUnsupported(err) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// loadRecord reads and checks a VM record.
func loadRecord(dir string) (*vmRecord, error) {
	path := filepath.Join(dir, recordFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r vmRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("%s: record version %d, this daemon reads %d", path, r.Version, recordVersion)
	}
	if r.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("%s: id %q does not match the directory name", path, r.ID)
	}
	if len(r.Disks) == 0 || len(r.Disks) > MaxDisks {
		return nil, fmt.Errorf("%s: %d disks", path, len(r.Disks))
	}
	return &r, nil
}

// switchPath is where the checksums of switch n are kept.
func switchPath(vmDir string, n uint64) string {
	return filepath.Join(vmDir, switchesDir, fmt.Sprintf("%06d.json", n))
}
