package replication

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"hvmigrate/hub/internal/state"
	"hvmigrate/hub/internal/stream"
	"hvmigrate/shared/delta"
)

// Migration steps, in order; each is recorded once its work is done.
const (
	StepRequested = "requested" // intent recorded, Migrate queued
	StepVerified  = "verified"  // final cycle applied and replica equals the source
	StepCopied    = "copied"    // final disks, definition and template written
	StepDone      = "done"      // replication stopped, host told to clean up
	StepFailed    = "failed"    // verification found differences
)

// ErrVerify: the replica differs from the source; the message names the
// ranges.
var ErrVerify = errors.New("replica does not match the source")

// Migration is the durable record of a VM's cutover.
type Migration struct {
	VMID       string                `json:"vm_id"`
	Shutdown   bool                  `json:"shutdown"`
	Step       string                `json:"step"`
	Waiting    string                `json:"waiting,omitempty"`
	FinalCycle uint64                `json:"final_cycle"`
	Hashes     map[string]DiskHashes `json:"hashes"`
	Message    string                `json:"message,omitempty"`
	Blobs      []string              `json:"blobs,omitempty"`
	Definition VMDefinition          `json:"definition"`
}

// DiskHashes are the chunk hashes of one source disk at a cycle.
type DiskHashes struct {
	Cycle      uint64   `json:"cycle"`
	ChunkBytes int64    `json:"chunk_bytes"`
	SHA256     []string `json:"sha256"`
}

func migrationID(vmID string) string { return "mig-" + vmID }

// Migrate starts the cutover of a VM, or reports on one: it records the
// intent, queues Migrate (shut the source down unless told not to, run a
// final cycle) and wakes the VM's worker, which advances the migration as
// far as the host's reports allow. It returns the migration as recorded;
// calling it again after a crash at any step finishes the migration once.
func (s *Service) Migrate(ctx context.Context, vmRef string, shutdown bool) (Migration, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return Migration{}, err
	}
	m, err := s.loadMigration(ctx, r.VMID)
	if errors.Is(err, state.ErrNotFound) {
		if r.State != state.ReplReplicating {
			return m, fmt.Errorf("%w: vm %s is %s; only a replicating vm migrates", ErrState, r.Name, r.State)
		}
		m = Migration{VMID: r.VMID, Shutdown: shutdown, Step: StepRequested, Hashes: map[string]DiskHashes{}}
		if m.Definition, err = s.hardware(ctx, r); err == nil {
			err = s.saveMigration(ctx, m)
		}
	}
	if err != nil {
		return m, err
	}
	if m.Step == StepRequested {
		if err := s.requestMigration(ctx, r, m.Shutdown); err != nil {
			return m, err
		}
	}
	// The VM's worker runs the steps (verification reads every replica
	// disk, which outlasts any admin call); the caller follows the record.
	s.kick(r.VMID)
	switch m.Step {
	case StepFailed:
		return m, fmt.Errorf("%w: %s", ErrVerify, m.Message)
	case StepRequested:
		if m.Waiting = s.migrationWait(ctx, r, m); m.Waiting == "" {
			m.Waiting = "verifying the replica against the source"
		}
	}
	return m, nil
}

// requestMigration moves the VM to migrating and queues the Migrate
// command; both are repeatable (the command id is fixed, so the host runs
// it once), so every call before verification repeats them.
func (s *Service) requestMigration(ctx context.Context, r state.Replication, shutdown bool) error {
	if _, err := s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		r.State = state.ReplMigrating
		return nil
	}); err != nil {
		return err
	}
	if err := s.hook(r.VMID, "request"); err != nil {
		return err
	}
	cmd := stream.Command{ID: fmt.Sprintf("migrate-%s-g%d", r.VMID, r.Generation), Migrate: &stream.Migrate{VMID: r.VMID, ShutdownSource: shutdown}}
	return s.enqueue(ctx, r.HostID, cmd)
}

// missing marks a chunk whose hash has not been reported yet.
const missing = "-"

// ReportSourceHashes records the hashes of chunks first, first+1, ... of
// a stopped source disk at the final cycle (a disk's hashes may come in
// several pieces) and wakes the VM's worker. A piece of another cycle or
// chunk size than the stored ones starts the disk's hashes afresh.
func (s *Service) ReportSourceHashes(ctx context.Context, vmID, diskID string, first int64, piece DiskHashes) error {
	r, err := s.store.GetReplication(ctx, vmID)
	if err != nil {
		return err
	}
	size := diskSize(r, canonical(diskID))
	if err := piece.validate(size, first); err != nil {
		return fmt.Errorf("disk %s: %w", diskID, err)
	}
	m, err := s.loadMigration(ctx, vmID)
	if err != nil || m.Step != StepRequested {
		return err
	}
	h, ok := m.Hashes[canonical(diskID)]
	if !ok || h.Cycle != piece.Cycle || h.ChunkBytes != piece.ChunkBytes {
		h = DiskHashes{Cycle: piece.Cycle, ChunkBytes: piece.ChunkBytes,
			SHA256: slices.Repeat([]string{missing}, int((size+piece.ChunkBytes-1)/piece.ChunkBytes))}
	}
	copy(h.SHA256[first:], piece.SHA256)
	m.Hashes[canonical(diskID)] = h
	if err := s.saveMigration(ctx, m); err != nil {
		return err
	}
	s.kick(vmID)
	return nil
}

// validate checks a piece of hashes starting at chunk first of a disk.
func (h DiskHashes) validate(size, first int64) error {
	switch {
	case size <= 0:
		return fmt.Errorf("%w: not a replicated disk", ErrInvalid)
	case h.Cycle == 0 || h.ChunkBytes < 64<<10 || h.ChunkBytes > 64<<20 || h.ChunkBytes&(h.ChunkBytes-1) != 0:
		return fmt.Errorf("%w: cycle %d, chunk size %d", ErrInvalid, h.Cycle, h.ChunkBytes)
	case first < 0 || first+int64(len(h.SHA256)) > (size+h.ChunkBytes-1)/h.ChunkBytes:
		return fmt.Errorf("%w: chunks %d+%d past %d bytes in chunks of %d", ErrInvalid, first, len(h.SHA256), size, h.ChunkBytes)
	}
	for _, x := range h.SHA256 {
		if x != "" && (len(x) != 64 || strings.Trim(x, "0123456789abcdef") != "") {
			return fmt.Errorf("%w: hash %q is not lowercase hex SHA-256", ErrInvalid, x)
		}
	}
	return nil
}

// advance runs every migration step whose inputs are there.
func (s *Service) advance(ctx context.Context, vmID string) (Migration, error) {
	m, err := s.loadMigration(ctx, vmID)
	if err != nil {
		return m, err
	}
	r, err := s.store.GetReplication(ctx, vmID)
	if err != nil {
		return m, err
	}
	for {
		var next func(context.Context, state.Replication, *Migration) error
		switch m.Step {
		case StepRequested:
			next = s.verifyStep
		case StepVerified:
			next = s.copyStep
		case StepCopied:
			next = s.stopStep
		case StepFailed:
			return m, fmt.Errorf("%w: %s", ErrVerify, m.Message)
		default:
			return m, nil
		}
		step := m.Step
		if err := next(ctx, r, &m); err != nil || m.Step == step {
			return m, err
		}
		s.notify()
	}
}

// copyStep copies the verified point to migrated/ with the definition and
// template; copies already made by an interrupted run are kept.
func (s *Service) copyStep(ctx context.Context, r state.Replication, m *Migration) error {
	_, p, err := s.pointOf(ctx, r.VMID, m.FinalCycle)
	if err != nil {
		return err
	}
	vmID, _ := ParseID(r.VMID)
	ctr := s.layout.ReplicasContainer(r.ProjectID)
	if err := s.copyPoint(ctx, r, p, ctr, func(d delta.ID) string { return s.layout.MigratedBlob(vmID, d) }, &m.Definition); err != nil {
		return err
	}
	prefix := "migrated/" + hexID(vmID) + "/"
	if err := s.writeDefinition(ctx, ctr, prefix, m.Definition); err != nil {
		return err
	}
	if err := s.hook(r.VMID, "copy"); err != nil {
		return err
	}
	m.Blobs = []string{prefix + "vm.json", prefix + "template.json"}
	for _, d := range m.Definition.Disks {
		m.Blobs = append(m.Blobs, strings.TrimPrefix(d.BlobURL, s.cfg.Endpoint+"/"+ctr+"/"))
	}
	m.Step = StepCopied
	return s.saveMigration(ctx, *m)
}

// stopStep marks the replication migrated and tells the host to stop and
// clean up (a fixed command id, so a repeat is a no-op).
func (s *Service) stopStep(ctx context.Context, r state.Replication, m *Migration) error {
	if _, err := s.store.UpdateReplication(ctx, r.VMID, func(r *state.Replication) error {
		r.State, r.UpdatedAt = state.ReplMigrated, s.cfg.Now()
		return nil
	}); err != nil {
		return err
	}
	cmd := stream.Command{ID: fmt.Sprintf("disable-%s-migrated", r.VMID), DisableReplication: &stream.VMCommand{VMID: r.VMID}}
	if err := s.enqueue(ctx, r.HostID, cmd); err != nil {
		return err
	}
	if err := s.hook(r.VMID, "stop"); err != nil {
		return err
	}
	m.Step = StepDone
	return s.saveMigration(ctx, *m)
}

func (s *Service) loadMigration(ctx context.Context, vmID string) (Migration, error) {
	op, err := s.store.GetOperation(ctx, migrationID(vmID))
	if err != nil {
		return Migration{}, err
	}
	var m Migration
	if err := json.Unmarshal([]byte(op.Detail), &m); err != nil {
		return m, fmt.Errorf("migration of %s: %w", vmID, err)
	}
	if m.Hashes == nil {
		m.Hashes = map[string]DiskHashes{}
	}
	return m, nil
}

func (s *Service) saveMigration(ctx context.Context, m Migration) error {
	m.Waiting = ""
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return s.store.PutOperation(ctx, state.Operation{ID: migrationID(m.VMID), VMID: m.VMID, Kind: KindMigrate,
		Step: m.Step, Detail: string(b), CreatedAt: now, UpdatedAt: now})
}

// hook lets tests abandon an operation after a step's work, before the
// step is recorded.
func (s *Service) hook(vmID, step string) error {
	if s.cfg.StepHook == nil {
		return nil
	}
	return s.cfg.StepHook(vmID, step)
}
