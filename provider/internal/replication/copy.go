package replication

import (
	"fmt"
	"time"
)

// enable starts replicating a VM that is not replicated.
func (c Config) enable(s *State, e Enable) ([]Action, error) {
	if s.Phase != "" && s.Phase != PhaseDisabled {
		return nil, notIn(s)
	}
	if err := c.checkPolicy(e); err != nil {
		return nil, err
	}
	s.Policy = e.Policy
	s.Disks = s.Disks[:0]
	for _, d := range e.Disks {
		s.Disks = append(s.Disks, Disk{ID: d.ID, Size: d.Size, DataWriteGUID: d.DataWriteGUID})
	}
	s.Phase = PhaseEnabling
	return s.newGeneration(), nil
}

func (c Config) checkPolicy(e Enable) error {
	switch {
	case e.Policy.Interval < c.MinInterval:
		return fmt.Errorf("%w: interval %s is below %s", ErrInvalidPolicy, e.Policy.Interval, c.MinInterval)
	case e.Policy.Threads < 0 || e.Policy.Threads > 32:
		return fmt.Errorf("%w: %d threads: want 0 (host default) to 32", ErrInvalidPolicy, e.Policy.Threads)
	case len(e.Disks) == 0:
		return fmt.Errorf("%w: the VM has no disks", ErrInvalidPolicy)
	}
	seen := map[string]bool{}
	for _, d := range e.Disks {
		if d.ID == "" || d.Size <= 0 || seen[d.ID] {
			return fmt.Errorf("%w: disk %q of %d bytes is empty, unnamed or listed twice", ErrInvalidPolicy, d.ID, d.Size)
		}
		seen[d.ID] = true
	}
	return nil
}

// newGeneration starts a full copy: the copy will take the next cycle
// number, so numbers stay contiguous whatever was in flight. Tracking
// starts afresh with the copy's checkpoint, so the host's switch count
// is no longer known: the first switch after the copy sets it again.
func (s *State) newGeneration() []Action {
	s.Generation++
	s.BaseCycle = s.LastCycle + 1
	s.InFlight, s.CopyStage, s.Migrate, s.Attempts, s.HostSwitch, s.DiffResync = nil, "", "", 0, 0, false
	for i := range s.Disks {
		d := &s.Disks[i]
		d.Frozen, d.Base, d.Copy, d.BytesDone, d.BytesTotal, d.PendingLogBytes = "", "", DiskPending, 0, 0, 0
	}
	return []Action{PrepareCheckpoint{Generation: s.Generation}}
}

// beginResync abandons the cycle in flight and copies the VM again.
func (s *State) beginResync(reason string) []Action {
	s.Phase, s.ResyncReason, s.ResyncPending, s.PausedFrom = PhaseResyncRequired, reason, false, ""
	acts := s.newGeneration()
	// A replica that took a cycle can be compared chunk by chunk.
	s.DiffResync = s.LastCycle > 0
	return append(acts, Health{Level: "warn", Message: "resync required: " + reason})
}

func (s *State) checkpointCreated(e CheckpointCreated) ([]Action, error) {
	if s.Phase != PhaseEnabling && s.Phase != PhaseResyncRequired {
		return nil, notIn(s)
	}
	resync := s.Phase == PhaseResyncRequired
	if e.Generation != s.Generation {
		return nil, fmt.Errorf("%w: checkpoint of generation %d, copying %d", ErrStale, e.Generation, s.Generation)
	}
	for i := range s.Disks {
		f, ok := e.Frozen[s.Disks[i].ID]
		if !ok || f == "" {
			return nil, fmt.Errorf("%w: checkpoint has no frozen file for disk %s", ErrInvalidTransition, s.Disks[i].ID)
		}
		s.Disks[i].Frozen = f
	}
	// The first switch after the copy must follow the checkpoint's.
	s.HostSwitch, s.SwitchesNumbered = e.HostSwitch, e.Numbered
	s.Phase = PhaseInitialReplication
	if resync {
		s.Phase = PhaseResyncing
	}
	s.CopyStage, s.Attempts = StageCopying, 0
	return s.copyActions(), nil
}

// copyActions continues the copy: the disk being copied, else the next
// pending one, else the checkpoint merge, else the report.
func (s *State) copyActions() []Action {
	switch s.CopyStage {
	case StageMerging:
		return []Action{DeleteCheckpoint{Generation: s.Generation}}
	case StageReporting:
		return []Action{Report{Manifest: s.baseManifest()}}
	}
	for i := range s.Disks {
		d := &s.Disks[i]
		if d.Copy == DiskCopied {
			continue
		}
		d.Copy = DiskCopying
		return []Action{s.diskAction(d)}
	}
	s.CopyStage = StageMerging
	return s.copyActions()
}

// copying checks that a copy event is for the running disk of this
// generation and returns it.
func (s *State) copying(gen uint64, diskID string) (*Disk, error) {
	if !copyPhase(s.Phase) || s.CopyStage != StageCopying {
		return nil, notIn(s)
	}
	i := s.disk(diskID)
	if gen != s.Generation || i < 0 || s.Disks[i].Copy != DiskCopying {
		return nil, fmt.Errorf("%w: copy of disk %s in generation %d is not running", ErrStale, diskID, gen)
	}
	return &s.Disks[i], nil
}

func (s *State) copyProgress(e CopyProgress) error {
	d, err := s.copying(e.Generation, e.DiskID)
	if err != nil {
		return err
	}
	d.BytesDone, d.BytesTotal = e.Done, e.Total
	return nil
}

func (s *State) copyDone(e CopyDone) ([]Action, error) {
	d, err := s.copying(e.Generation, e.DiskID)
	if err != nil {
		return nil, err
	}
	if e.Object == "" {
		return nil, fmt.Errorf("%w: copy of disk %s names no replica blob", ErrInvalidTransition, e.DiskID)
	}
	d.Copy, d.Base, d.BytesDone, d.BytesTotal = DiskCopied, e.Object, e.Total, e.Total
	s.Attempts = 0
	return s.copyActions(), nil
}

func (s *State) checkpointDeleted(e CheckpointDeleted) ([]Action, error) {
	if !copyPhase(s.Phase) || s.CopyStage != StageMerging || e.Generation != s.Generation {
		return nil, fmt.Errorf("%w: no checkpoint of generation %d is being merged", ErrStale, e.Generation)
	}
	s.CopyStage = StageReporting
	return s.copyActions(), nil
}

func (s *State) baseManifest() Manifest {
	m := Manifest{VMID: s.VMID, Kind: ManifestBase, Cycle: s.BaseCycle, Previous: s.BaseCycle - 1,
		Generation: s.Generation, HostSwitch: s.HostSwitch}
	if s.DiffResync {
		m.Kind = ManifestResync
	}
	for _, d := range s.Disks {
		m.Disks = append(m.Disks, ManifestDisk{DiskID: d.ID, Object: d.Base, Bytes: d.BytesTotal})
	}
	return m
}

func (s *State) baseReported(e BaseReported) ([]Action, error) {
	if !copyPhase(s.Phase) || s.CopyStage != StageReporting || e.Cycle != s.BaseCycle {
		return nil, fmt.Errorf("%w: base cycle %d is not being reported", ErrStale, e.Cycle)
	}
	s.LastCycle, s.CopyStage, s.Phase, s.DiffResync = s.BaseCycle, "", PhaseDeltaReplication, false
	s.ResyncReason, s.NextCycleAt, s.LastSwitchAt, s.Attempts = "", time.Time{}, time.Time{}, 0
	return nil, nil
}

// sourceLost restarts the copy (initial replication) or resyncs: the agent
// cannot read what the state points at.
func (s *State) sourceLost(e SourceLost) ([]Action, error) {
	switch {
	case s.Phase == PhaseInitialReplication && s.CopyStage == StageCopying:
		s.Phase = PhaseEnabling
		return s.newGeneration(), nil
	case s.Phase == PhaseResyncing && s.CopyStage == StageCopying:
		return s.beginResync(e.Reason), nil
	case cyclePhase(s.Phase) && s.InFlight != nil && s.InFlight.Stage == CycleUploading:
		return s.beginResync(e.Reason), nil
	}
	return nil, fmt.Errorf("%w: nothing reads the source now", ErrStale)
}
