package replication

import (
	"fmt"
	"path/filepath"
)

// tick starts the next cycle when it is due, notes an overrun when the
// cycle in flight makes the next switch wait, and retries a failed VM.
func (c Config) tick(s *State, e Tick) ([]Action, error) {
	if s.Phase == PhaseFailed {
		return c.retry(s, e)
	}
	if s.Phase != PhaseDeltaReplication || e.At.Before(s.NextCycleAt) {
		return nil, ErrIgnored
	}
	if c := s.InFlight; c != nil {
		if c.Overran || s.NextCycleAt.IsZero() {
			return nil, ErrIgnored
		}
		c.Overran = true
		s.Overruns++
		return nil, nil
	}
	s.InFlight = &Cycle{Number: s.LastCycle + 1, Previous: s.LastCycle, Stage: CycleSwitching}
	return s.cycleActions(), nil
}

// cycleActions continues the cycle in flight.
func (s *State) cycleActions() []Action {
	c := s.InFlight
	switch c.Stage {
	case CycleSwitching:
		return []Action{SwitchLogs{Cycle: c.Number, Expect: s.nextSwitch()}}
	case CycleUploading:
		sizes := map[string]int64{}
		for _, d := range s.Disks {
			sizes[d.ID] = d.Size
		}
		cp := s.Clone().InFlight
		return []Action{UploadCycle{JobID: CycleJobID(s.VMID, c.Number), Cycle: *cp, Sizes: sizes, Threads: s.Policy.Threads}}
	default:
		return []Action{Report{Manifest: s.cycleManifest()}}
	}
}

// nextSwitch is the number the host will give its next switch, 0 if the
// host does not number them.
func (s *State) nextSwitch() uint64 {
	if s.HostSwitch == 0 && !s.SwitchesNumbered {
		return 0
	}
	return s.HostSwitch + 1
}

// inFlight checks that a cycle event is for the cycle in flight at stage.
func (s *State) inFlight(cycle uint64, stage CycleStage) (*Cycle, error) {
	if !cyclePhase(s.Phase) {
		return nil, notIn(s)
	}
	c := s.InFlight
	if c == nil || c.Number != cycle || c.Stage != stage {
		return nil, fmt.Errorf("%w: cycle %d is not %s", ErrStale, cycle, stage)
	}
	return c, nil
}

func (c Config) switched(s *State, e Switched) ([]Action, error) {
	cy, err := s.inFlight(e.Cycle, CycleSwitching)
	if err != nil {
		return nil, err
	}
	if e.ResyncNeeded {
		return s.beginResync("the host lost track of writes: " + e.Reason), nil
	}
	if n := s.nextSwitch(); n != 0 && e.HostSwitch != 0 && e.HostSwitch != n {
		return s.beginResync(fmt.Sprintf("host switch %d follows %d: the logs of a switch were lost", e.HostSwitch, s.HostSwitch)), nil
	}
	cy.Disks = cy.Disks[:0]
	for _, d := range s.Disks {
		i := indexSwitched(e.Disks, d.ID)
		if i < 0 {
			return s.beginResync(fmt.Sprintf("switch %d returned no logs for disk %s", e.HostSwitch, d.ID)), nil
		}
		sd := e.Disks[i]
		cy.Disks = append(cy.Disks, CycleDisk{ID: d.ID, Logs: sd.Logs, LogBytes: sd.LogBytes})
	}
	s.HostSwitch, cy.HostSwitch, cy.SwitchedAt, cy.Stage = e.HostSwitch, e.HostSwitch, e.At, CycleUploading
	return c.checkBacklog(s, e)
}

// checkBacklog records the pending log sizes and resyncs a disk whose logs
// outgrew the limit; it warns at the lower mark.
func (c Config) checkBacklog(s *State, e Switched) ([]Action, error) {
	var warn []Action
	for i := range s.Disks {
		d := &s.Disks[i]
		sd := e.Disks[indexSwitched(e.Disks, d.ID)]
		d.PendingLogBytes, d.DataWriteGUID = sd.LogBytes, sd.DataWriteGUID
		ratio := float64(sd.LogBytes) / float64(d.Size)
		switch {
		case ratio >= c.ResyncLogRatio:
			return s.beginResync(fmt.Sprintf("pending logs of disk %s hold %d bytes, %.0f%% of the disk", d.ID, sd.LogBytes, 100*ratio)), nil
		case ratio >= c.WarnLogRatio:
			warn = append(warn, Health{Level: "warn", Message: fmt.Sprintf(
				"pending logs of disk %s hold %.0f%% of the disk; at %.0f%% the VM resyncs", d.ID, 100*ratio, 100*c.ResyncLogRatio)})
		}
	}
	return append(s.cycleActions(), warn...), nil
}

func indexSwitched(ds []SwitchedDisk, id string) int {
	for i := range ds {
		if ds[i].ID == id {
			return i
		}
	}
	return -1
}

// trackingOff resyncs if a disk was written while tracking was off, and
// otherwise turns tracking on and switches again.
func (s *State) trackingOff(e TrackingOff) ([]Action, error) {
	if _, err := s.inFlight(e.Cycle, CycleSwitching); err != nil {
		return nil, err
	}
	for _, d := range s.Disks {
		if now := e.GUIDs[d.ID]; d.DataWriteGUID != "" && now != d.DataWriteGUID {
			return s.beginResync(fmt.Sprintf("disk %s was written while change tracking was off", d.ID)), nil
		}
	}
	return []Action{StartTracking{}, SwitchLogs{Cycle: e.Cycle, Expect: s.nextSwitch()}}, nil
}

func (s *State) uploaded(e Uploaded) ([]Action, error) {
	cy, err := s.inFlight(e.Cycle, CycleUploading)
	if err != nil {
		return nil, err
	}
	for i := range cy.Disks {
		d := &cy.Disks[i]
		j := indexUploaded(e.Disks, d.ID)
		if j < 0 || e.Disks[j].Object == "" {
			return nil, fmt.Errorf("%w: upload of cycle %d names no object for disk %s", ErrInvalidTransition, e.Cycle, d.ID)
		}
		d.Object, d.Bytes = e.Disks[j].Object, e.Disks[j].Bytes
	}
	cy.Stage, s.Attempts = CycleReporting, 0
	return s.cycleActions(), nil
}

func indexUploaded(ds []UploadedDisk, id string) int {
	for i := range ds {
		if ds[i].ID == id {
			return i
		}
	}
	return -1
}

func (s *State) cycleManifest() Manifest {
	c := s.InFlight
	m := Manifest{VMID: s.VMID, Kind: ManifestDelta, Cycle: c.Number, Previous: c.Previous,
		Generation: s.Generation, HostSwitch: c.HostSwitch, SwitchedAt: c.SwitchedAt}
	if c.Final {
		m.Kind = ManifestFinal
	}
	if !s.LastSwitchAt.IsZero() {
		m.RPO = c.SwitchedAt.Sub(s.LastSwitchAt)
	}
	for _, d := range c.Disks {
		md := ManifestDisk{DiskID: d.ID, Object: d.Object, Bytes: d.Bytes}
		for _, l := range d.Logs {
			md.LogIDs = append(md.LogIDs, filepath.Base(l))
		}
		m.Disks = append(m.Disks, md)
	}
	return m
}

func (s *State) cycleReported(e CycleReported) ([]Action, error) {
	c, err := s.inFlight(e.Cycle, CycleReporting)
	if err != nil {
		return nil, err
	}
	if !s.LastSwitchAt.IsZero() {
		s.LastRPO = c.SwitchedAt.Sub(s.LastSwitchAt)
		s.MaxRPO = max(s.MaxRPO, s.LastRPO)
	}
	s.LastCycle, s.LastSwitchAt, s.InFlight, s.Attempts = c.Number, c.SwitchedAt, nil, 0
	s.NextCycleAt = c.SwitchedAt.Add(s.Policy.Interval)
	for i := range s.Disks {
		s.Disks[i].PendingLogBytes = 0
	}
	// The hub holds the cycle: its logs are no longer needed.
	release := s.queueRelease(c)
	switch {
	case c.Final:
		s.Phase, s.Migrate = PhaseMigrated, ""
		return append(release, StopTracking{RemoveLogs: true}), nil
	case s.ResyncPending:
		return append(release, s.beginResync(s.ResyncReason)...), nil
	case s.Phase == PhaseMigrating && s.Migrate == MigrateDraining:
		s.Migrate = MigrateShutdown
		return append(release, s.pendingActions()...), nil
	}
	return release, nil
}
