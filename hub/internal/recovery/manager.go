package recovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/hub/internal/storage"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// Snapshot metadata keys that tag the snapshots this package takes.
const (
	metaVM    = "hvm_vm"
	metaCycle = "hvm_cycle"
)

// Blobs is the storage the manager needs.
type Blobs interface {
	Properties(ctx context.Context, name, snapshot string) (storage.Properties, error)
	CreateSnapshot(ctx context.Context, name string, meta map[string]string) (string, error)
	ListSnapshots(ctx context.Context, name string) ([]storage.Snapshot, error)
	DeleteSnapshot(ctx context.Context, name, snapshot string) error
}

// Disk is one replica disk of a VM.
type Disk struct {
	DiskID delta.ID
	Blob   string
}

// Config tunes a Manager.
type Config struct {
	Policy Policy
	Clock  Clock        // nil means the wall clock
	Logger hclog.Logger // nil discards logs
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Policy: DefaultPolicy(), Clock: systemClock{}}
}

// Manager records and prunes recovery points.
type Manager struct {
	blobs Blobs
	store Store
	cfg   Config
	log   hclog.Logger
}

// New returns a Manager. A zero Policy takes the default.
func New(blobs Blobs, store Store, cfg Config) *Manager {
	if cfg.Policy == (Policy{}) {
		cfg.Policy = DefaultPolicy()
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Manager{blobs: blobs, store: store, cfg: cfg, log: log.Named("recovery")}
}

// Record snapshots every disk of a VM at cycle and records the point. It
// fails with ErrNotReady or ErrMoved unless every disk stands exactly at
// cycle. Recording a cycle already recorded returns the existing point.
func (m *Manager) Record(ctx context.Context, vm delta.ID, cycle uint64, disks []Disk) (Point, error) {
	if p, ok, err := m.existing(ctx, vm, cycle); err != nil || ok {
		return p, err
	}
	for _, d := range disks {
		if err := m.checkAt(ctx, d.Blob, "", cycle); err != nil {
			return Point{}, fmt.Errorf("vm %x disk %x: %w", vm, d.DiskID, err)
		}
	}
	p := Point{VMID: vm, Cycle: cycle, Consistency: CrashConsistent, State: Active}
	for _, d := range disks {
		id, err := m.snapshot(ctx, vm, cycle, d)
		if err != nil {
			return Point{}, fmt.Errorf("vm %x disk %x cycle %d: %w", vm, d.DiskID, cycle, err)
		}
		p.Disks = append(p.Disks, DiskSnapshot{DiskID: d.DiskID, Blob: d.Blob, Snapshot: id})
	}
	p.Time = m.cfg.Clock.Now()
	if err := m.store.Save(ctx, p); err != nil {
		return Point{}, fmt.Errorf("save recovery point: %w", err)
	}
	m.log.Info("recovery point recorded", "vm_id", fmt.Sprintf("%x", vm), "cycle", cycle, "disks", len(disks))
	return p, nil
}

// existing returns the recorded point of the cycle, if any.
func (m *Manager) existing(ctx context.Context, vm delta.ID, cycle uint64) (Point, bool, error) {
	points, err := m.store.Points(ctx, vm)
	if err != nil {
		return Point{}, false, fmt.Errorf("load recovery points: %w", err)
	}
	for _, p := range points {
		if p.Cycle != cycle {
			continue
		}
		if p.State == Deleting {
			return Point{}, false, fmt.Errorf("vm %x cycle %d: %w", vm, cycle, ErrDeleting)
		}
		return p, true, nil
	}
	return Point{}, false, nil
}

// checkAt checks that a blob (or snapshot) stands exactly at cycle.
func (m *Manager) checkAt(ctx context.Context, blob, snapshot string, cycle uint64) error {
	p, err := m.blobs.Properties(ctx, blob, snapshot)
	if err != nil {
		return err
	}
	switch seq := uint64(p.SequenceNumber); {
	case seq < cycle:
		return fmt.Errorf("%s is at cycle %d, want %d: %w", blob, seq, cycle, ErrNotReady)
	case seq > cycle:
		return fmt.Errorf("%s is at cycle %d, want %d: %w", blob, seq, cycle, ErrMoved)
	}
	return nil
}

// snapshot returns the tagged snapshot of a disk at cycle, taking it unless
// an earlier, interrupted Record already did.
func (m *Manager) snapshot(ctx context.Context, vm delta.ID, cycle uint64, d Disk) (string, error) {
	tag := map[string]string{metaVM: fmt.Sprintf("%x", vm), metaCycle: strconv.FormatUint(cycle, 10)}
	snaps, err := m.blobs.ListSnapshots(ctx, d.Blob)
	if err != nil {
		return "", err
	}
	for _, s := range snaps {
		if s.Metadata[metaVM] == tag[metaVM] && s.Metadata[metaCycle] == tag[metaCycle] {
			return s.ID, nil
		}
	}
	id, err := m.blobs.CreateSnapshot(ctx, d.Blob, tag)
	if err != nil {
		return "", err
	}
	if err := m.checkAt(ctx, d.Blob, id, cycle); err != nil {
		if derr := m.blobs.DeleteSnapshot(ctx, d.Blob, id); derr != nil && !errors.Is(derr, storeerr.ErrNotFound) {
			m.log.Warn("delete wrong snapshot", "blob", d.Blob, "error", derr)
		}
		return "", err
	}
	return id, nil
}
