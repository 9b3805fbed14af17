package replication

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"hvmigrate/hub/internal/state"
	"hvmigrate/shared/delta"
	"hvmigrate/shared/storeerr"
)

// Operation kinds.
const (
	KindTestMigrate = "test_migrate"
	KindMigrate     = "migrate"
)

// TestRun is one test migration: copies of the disks at a recovery point,
// a VM definition and an ARM template, all under one prefix.
type TestRun struct {
	ID         string       `json:"id"`
	VMID       string       `json:"vm_id"`
	Point      uint64       `json:"point"`
	Container  string       `json:"container"`
	Blobs      []string     `json:"blobs"`
	Definition VMDefinition `json:"definition"`
}

// TestMigrate copies a VM's disks at a recovery point (0: the latest) to
// a disposable place, with a VM definition and an ARM template.
// Replication goes on. Running it again after a crash finishes the same run.
func (s *Service) TestMigrate(ctx context.Context, vmRef string, point uint64) (TestRun, error) {
	r, p, err := s.pointOf(ctx, vmRef, point)
	if err != nil {
		return TestRun{}, err
	}
	opID := fmt.Sprintf("tm-%s-%d", r.VMID, p.Cycle)
	run, err := s.startRun(ctx, r, p, opID)
	if err != nil {
		return run, err
	}
	vmID, _ := ParseID(r.VMID)
	prefix := "testmigrate/" + hexID(vmID) + "/" + run.ID + "/"
	if err := s.copyPoint(ctx, r, p, run.Container, func(d delta.ID) string {
		return s.layout.TestMigrateBlob(vmID, d, run.ID)
	}, &run.Definition); err != nil {
		return run, err
	}
	if err := s.writeDefinition(ctx, run.Container, prefix, run.Definition); err != nil {
		return run, err
	}
	run.Blobs = append(run.Blobs, prefix+"vm.json", prefix+"template.json")
	for _, d := range run.Definition.Disks {
		run.Blobs = append(run.Blobs, strings.TrimPrefix(d.BlobURL, s.cfg.Endpoint+"/"+run.Container+"/"))
	}
	return run, s.saveRun(ctx, opID, "done", run)
}

// pointOf returns a VM's replication and one of its points (0: latest).
func (s *Service) pointOf(ctx context.Context, vmRef string, cycle uint64) (state.Replication, state.RecoveryPoint, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return r, state.RecoveryPoint{}, err
	}
	points, err := s.Points(ctx, r.VMID)
	if err != nil {
		return r, state.RecoveryPoint{}, err
	}
	for i := len(points) - 1; i >= 0; i-- {
		if (cycle == 0 || points[i].Cycle == cycle) && points[i].State == 0 {
			return r, points[i], nil
		}
	}
	if cycle == 0 {
		return r, state.RecoveryPoint{}, fmt.Errorf("%w: vm %s has no recovery point yet", ErrState, r.Name)
	}
	return r, state.RecoveryPoint{}, fmt.Errorf("recovery point %d of vm %s: %w", cycle, r.Name, state.ErrNotFound)
}

// startRun returns the run recorded for opID, or records a new one.
func (s *Service) startRun(ctx context.Context, r state.Replication, p state.RecoveryPoint, opID string) (TestRun, error) {
	if op, err := s.store.GetOperation(ctx, opID); err == nil {
		var run TestRun
		if err := json.Unmarshal([]byte(op.Detail), &run); err != nil {
			return run, fmt.Errorf("operation %s: %w", opID, err)
		}
		return run, nil
	} else if !errors.Is(err, state.ErrNotFound) {
		return TestRun{}, err
	}
	def, err := s.hardware(ctx, r)
	if err != nil {
		return TestRun{}, err
	}
	run := TestRun{ID: fmt.Sprintf("p%d-%d", p.Cycle, s.cfg.Now().Unix()), VMID: r.VMID, Point: p.Cycle,
		Container: s.layout.ReplicasContainer(r.ProjectID), Definition: def}
	return run, s.saveRun(ctx, opID, "copying", run)
}

func (s *Service) saveRun(ctx context.Context, opID, step string, run TestRun) error {
	b, err := json.Marshal(run)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	return s.store.PutOperation(ctx, state.Operation{ID: opID, VMID: run.VMID, Kind: KindTestMigrate, Step: step,
		Detail: string(b), CreatedAt: now, UpdatedAt: now})
}

// copyPoint copies every disk of a point server-side to dst(disk) and
// fills def, keeping the hardware def already holds (taken when the run
// started; a record from before hardware was reported takes it now). A
// copy that already exists (an earlier, interrupted run) is kept.
func (s *Service) copyPoint(ctx context.Context, r state.Replication, p state.RecoveryPoint, ctr string,
	dst func(delta.ID) string, def *VMDefinition) error {
	hw := *def
	if hw.SourceVMID == "" {
		var err error
		if hw, err = s.hardware(ctx, r); err != nil {
			return err
		}
	}
	*def = VMDefinition{Name: r.Name, SourceVMID: r.VMID, RecoveryPoint: p.Cycle, Generation: hw.Generation, VCPUs: hw.VCPUs,
		MemoryBytes: hw.MemoryBytes, NICs: hw.NICs}
	if def.NICs == nil {
		def.NICs = []DefinitionNIC{}
	}
	for i, pd := range p.Disks {
		diskID, err := ParseID(pd.DiskID)
		if err != nil {
			return err
		}
		name := dst(diskID)
		err = s.blobs.CopySnapshot(ctx, pd.Blob, pd.Snapshot, full(ctr, name))
		if err != nil && !errors.Is(err, storeerr.ErrExists) {
			return fmt.Errorf("copy disk %s of point %d: %w", pd.DiskID, p.Cycle, err)
		}
		def.Disks = append(def.Disks, DefinitionDisk{ID: pd.DiskID, Name: diskName(r, pd.DiskID), SizeBytes: diskSize(r, pd.DiskID),
			BlobURL: s.cfg.Endpoint + "/" + ctr + "/" + name, OSDisk: i == 0})
	}
	return nil
}

// writeDefinition uploads vm.json and template.json under prefix.
func (s *Service) writeDefinition(ctx context.Context, ctr, prefix string, def VMDefinition) error {
	vmJSON, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		return err
	}
	tmpl, err := def.ARMTemplate()
	if err != nil {
		return err
	}
	for name, body := range map[string][]byte{"vm.json": vmJSON, "template.json": tmpl} {
		err := s.blobs.Upload(ctx, full(ctr, prefix+name), bytes.NewReader(body))
		if err != nil && !errors.Is(err, storeerr.ErrExists) {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// CleanupTestMigration deletes every test migration of a VM: the blobs
// under its prefix (whatever runs left, finished or not) and the records.
func (s *Service) CleanupTestMigration(ctx context.Context, vmRef string) (int, error) {
	r, err := s.replicationOf(ctx, vmRef)
	if err != nil {
		return 0, err
	}
	vmID, err := ParseID(r.VMID)
	if err != nil {
		return 0, err
	}
	ctr := s.layout.ReplicasContainer(r.ProjectID)
	blobs, err := s.blobs.List(ctx, full(ctr, "testmigrate/"+hexID(vmID)+"/"))
	if err != nil && !errors.Is(err, storeerr.ErrNotFound) {
		return 0, err
	}
	for _, b := range blobs {
		if err := s.ctrs.Delete(ctx, ctr, strings.TrimPrefix(b.Name, ctr+"/")); err != nil {
			return 0, err
		}
	}
	ops, err := s.store.Operations(ctx, r.VMID, KindTestMigrate)
	if err != nil {
		return 0, err
	}
	for _, op := range ops {
		if err := s.store.DeleteOperation(ctx, op.ID); err != nil {
			return 0, err
		}
	}
	return len(blobs), nil
}

func diskName(r state.Replication, id string) string {
	for _, d := range r.Disks {
		if canonical(d.DiskID) == id {
			return d.Name
		}
	}
	return ""
}

func diskSize(r state.Replication, id string) int64 {
	for _, d := range r.Disks {
		if canonical(d.DiskID) == id {
			return d.SizeBytes
		}
	}
	return 0
}

// canonical renders a GUID in lowercase canonical form.
func canonical(s string) string {
	id, err := ParseID(s)
	if err != nil {
		return s
	}
	return vmKey(id)
}
