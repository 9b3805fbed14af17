package replication

import (
	"errors"
	"fmt"
)

// ErrIgnored means the event changes nothing in the VM's phase (a clock
// tick with nothing due, a repeated command); the driver drops it quietly.
var ErrIgnored = errors.New("event changes nothing")

// Next applies e to s. It returns the new state and the actions to run
// once that state is durable, or an error wrapping ErrInvalidTransition,
// ErrStale, ErrIgnored or ErrInvalidPolicy with s unchanged. It does no
// I/O and never changes s itself.
func (c Config) Next(s State, e Event) (State, []Action, error) {
	n := s.Clone()
	acts, err := c.apply(&n, e)
	if err != nil {
		return s, nil, fmt.Errorf("vm %s: %s in phase %q: %w", s.VMID, e.Name(), s.Phase, err)
	}
	n.Seq++
	if err := n.Validate(); err != nil {
		return s, nil, fmt.Errorf("vm %s: %s in phase %q would break an invariant: %w", s.VMID, e.Name(), s.Phase, err)
	}
	return n, acts, nil
}

func (c Config) apply(s *State, e Event) ([]Action, error) {
	switch e := e.(type) {
	case Enable:
		return c.enable(s, e)
	case CheckpointCreated:
		return s.checkpointCreated(e)
	case CopyProgress:
		return nil, s.copyProgress(e)
	case CopyDone:
		return s.copyDone(e)
	case FullCopyNeeded:
		return s.fullCopyNeeded(e)
	case CheckpointDeleted:
		return s.checkpointDeleted(e)
	case BaseReported:
		return s.baseReported(e)
	case SourceLost:
		return s.sourceLost(e)
	case Tick:
		return c.tick(s, e)
	case Resume:
		return s.resume()
	case ActionFailed:
		return c.actionFailed(s, e)
	}
	return c.applyMore(s, e)
}

func (c Config) applyMore(s *State, e Event) ([]Action, error) {
	switch e := e.(type) {
	case Switched:
		return c.switched(s, e)
	case TrackingOff:
		return s.trackingOff(e)
	case Uploaded:
		return s.uploaded(e)
	case CycleReported:
		return s.cycleReported(e)
	case LogsReleased:
		return nil, s.logsReleased(e)
	case Disable:
		return s.disable()
	case Disabled:
		return nil, s.disabled()
	case Resync:
		return s.resyncCommand(e)
	case Pause:
		return nil, s.pause()
	case Unpause:
		return nil, s.unpause()
	case Migrate:
		return s.migrate(e)
	case ShutDown:
		return s.shutDown()
	case TestMigrate:
		return s.testMigrate()
	}
	return nil, fmt.Errorf("%w: unknown event %T", ErrInvalidTransition, e)
}

// notIn returns the error for an event the phase does not take.
func notIn(s *State) error {
	return fmt.Errorf("%w: not allowed while %s", ErrInvalidTransition, s.Phase)
}

// copyPhase reports whether the phase copies disks into a replica base.
func copyPhase(p Phase) bool { return p == PhaseInitialReplication || p == PhaseResyncing }

// cyclePhase reports whether the phase runs (or finishes) delta cycles.
func cyclePhase(p Phase) bool {
	return p == PhaseDeltaReplication || p == PhasePaused || p == PhaseMigrating
}

// resume returns the actions that continue from the state as stored.
func (s *State) resume() ([]Action, error) {
	if s.Phase == PhaseFailed {
		return nil, fmt.Errorf("%w: retry not due before %s", ErrIgnored, s.Failure.NextRetry.Format("15:04:05"))
	}
	if s.switchUnknown() {
		return s.beginResync(lostSwitch), nil
	}
	acts := append(s.releaseActions(), s.pendingActions()...)
	if len(acts) == 0 {
		return nil, ErrIgnored
	}
	return acts, nil
}

const lostSwitch = "the provider stopped during a log switch whose outcome the host cannot tell (a host that does not number switches)"

// switchUnknown reports whether a switch may have happened that the state
// cannot detect: switching again could silently skip its logs. With the
// host's switch count known, the switch is looked up by number if the
// host made it (SwitchLogs.Expect), and a gap shows in the next switch
// otherwise.
func (s *State) switchUnknown() bool {
	c := s.InFlight
	return cyclePhase(s.Phase) && c != nil && c.Stage == CycleSwitching && s.nextSwitch() == 0
}

// pendingActions lists the work the state waits for.
func (s *State) pendingActions() []Action {
	switch {
	case s.Phase == PhaseEnabling || s.Phase == PhaseResyncRequired:
		return []Action{PrepareCheckpoint{Generation: s.Generation}}
	case copyPhase(s.Phase):
		return s.copyActions()
	case s.Phase == PhaseDisabling:
		return []Action{Cleanup{}}
	case cyclePhase(s.Phase) && s.InFlight != nil:
		return s.cycleActions()
	case s.Phase == PhaseMigrating && s.Migrate == MigrateShutdown:
		return []Action{ShutdownGuest{Shutdown: s.Policy.ShutdownOnMigrate}}
	}
	return nil
}
