package replication

import (
	"fmt"
	"time"
)

func (s *State) disable() ([]Action, error) {
	switch s.Phase {
	case "", PhaseDisabled:
		return nil, notIn(s)
	case PhaseDisabling:
		return nil, ErrIgnored
	}
	// A number whose manifest may have reached the hub counts as used.
	if c := s.InFlight; c != nil && c.Stage == CycleReporting {
		s.LastCycle = c.Number
	}
	if s.CopyStage == StageReporting {
		s.LastCycle = s.BaseCycle
	}
	s.Phase, s.Failure, s.PausedFrom, s.InFlight = PhaseDisabling, nil, "", nil
	s.CopyStage, s.Migrate, s.ResyncPending, s.ResyncReason, s.Attempts = "", "", false, "", 0
	return []Action{Cleanup{}}, nil
}

func (s *State) disabled() error {
	if s.Phase != PhaseDisabling {
		return notIn(s)
	}
	// The cycle counter and generation survive, so a later enable never
	// reuses a number.
	s.Phase, s.Disks, s.BaseCycle = PhaseDisabled, nil, s.LastCycle
	return nil
}

// resyncCommand resyncs now, or after the cycle the hub may already hold.
func (s *State) resyncCommand(e Resync) ([]Action, error) {
	reason := "requested by the hub"
	if e.Reason != "" {
		reason += ": " + e.Reason
	}
	from := s.Phase
	if from == PhaseFailed {
		from = s.Failure.From
	}
	switch {
	case from == PhaseResyncRequired || from == PhaseResyncing:
		return nil, ErrIgnored
	case from != PhaseDeltaReplication && from != PhasePaused:
		return nil, notIn(s)
	case s.InFlight != nil && s.InFlight.Stage == CycleReporting:
		s.ResyncPending, s.ResyncReason = true, reason
		return nil, nil
	}
	s.Failure = nil
	return s.beginResync(reason), nil
}

func (s *State) pause() error {
	if s.Phase != PhaseDeltaReplication {
		return notIn(s)
	}
	s.Phase, s.PausedFrom = PhasePaused, PhaseDeltaReplication
	return nil
}

func (s *State) unpause() error {
	if s.Phase != PhasePaused {
		return notIn(s)
	}
	s.Phase, s.PausedFrom = s.PausedFrom, ""
	return nil
}

// migrate lets the cycle in flight finish, then shuts down and runs the
// final cycle.
func (s *State) migrate(e Migrate) ([]Action, error) {
	if s.Phase != PhaseDeltaReplication && s.Phase != PhasePaused {
		return nil, notIn(s)
	}
	s.Phase, s.PausedFrom = PhaseMigrating, ""
	s.Policy.ShutdownOnMigrate = e.Shutdown
	if s.InFlight != nil {
		s.Migrate = MigrateDraining
		return nil, nil
	}
	s.Migrate = MigrateShutdown
	return s.pendingActions(), nil
}

func (s *State) shutDown() ([]Action, error) {
	if s.Phase != PhaseMigrating || s.Migrate != MigrateShutdown {
		return nil, fmt.Errorf("%w: no shutdown was asked for", ErrStale)
	}
	s.Migrate = MigrateFinal
	s.InFlight = &Cycle{Number: s.LastCycle + 1, Previous: s.LastCycle, Stage: CycleSwitching, Final: true}
	return s.cycleActions(), nil
}

func (s *State) testMigrate() ([]Action, error) {
	if s.Phase != PhaseDeltaReplication && s.Phase != PhasePaused {
		return nil, notIn(s)
	}
	return []Action{Health{Level: "info", Message: "test migration noted; replication continues"}}, nil
}

// actionFailed records the failure and when to retry.
func (c Config) actionFailed(s *State, e ActionFailed) ([]Action, error) {
	switch s.Phase {
	case "", PhaseDisabled, PhaseMigrated:
		return nil, notIn(s)
	case PhaseFailed:
		return nil, fmt.Errorf("%w: already failed", ErrStale)
	}
	s.Attempts++
	s.Failure = &Failure{From: s.Phase, Reason: fmt.Sprintf("%s: %s", e.Action, e.Err), Attempts: s.Attempts,
		NextRetry: e.At.Add(c.RetryAfter(s.Attempts))}
	s.Phase = PhaseFailed
	return []Action{Health{Level: "error", Message: fmt.Sprintf("%s; retry %d at %s",
		s.Failure.Reason, s.Attempts, s.Failure.NextRetry.UTC().Format(time.RFC3339))}}, nil
}

// retry returns a failed VM to where it failed once its retry is due.
func (c Config) retry(s *State, e Tick) ([]Action, error) {
	if e.At.Before(s.Failure.NextRetry) {
		return nil, ErrIgnored
	}
	s.Phase, s.Failure = s.Failure.From, nil
	if s.switchUnknown() {
		return s.beginResync(lostSwitch), nil
	}
	return s.pendingActions(), nil
}
