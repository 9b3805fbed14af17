package replication

import (
	"fmt"
	"slices"
)

// MaxReleasePending bounds the logs a state keeps waiting for release:
// when the host keeps failing to delete them, the oldest are forgotten
// (they stay on disk until tracking stops and removes every log).
const MaxReleasePending = 512

// ReleaseLogs deletes closed logs of cycles the hub holds. It runs after
// the transition that recorded them as pending is durable, so a crash
// before it ends leaves them pending and the next start releases them
// again; the host treats a log already gone as released. A failure is
// only a warning. Yields LogsReleased when the host confirms.
type ReleaseLogs struct{ Logs []string }

// Name implements Action.
func (ReleaseLogs) Name() string { return "release_logs" }

// LogsReleased reports closed logs the host deleted (or found gone).
type LogsReleased struct{ Logs []string }

// Name implements Event.
func (LogsReleased) Name() string { return "logs_released" }

// queueRelease records the logs of a reported cycle as pending release and
// returns the action that releases every pending log.
func (s *State) queueRelease(c *Cycle) []Action {
	for _, d := range c.Disks {
		for _, l := range d.Logs {
			if !slices.Contains(s.ReleasePending, l) {
				s.ReleasePending = append(s.ReleasePending, l)
			}
		}
	}
	if n := len(s.ReleasePending) - MaxReleasePending; n > 0 {
		s.ReleasePending = slices.Delete(s.ReleasePending, 0, n)
	}
	return s.releaseActions()
}

// releaseActions releases the pending logs, if any, except one the cycle
// in flight reads (a host never hands a log out twice; this guards the
// agent's input should one do so).
func (s *State) releaseActions() []Action {
	var logs []string
	for _, l := range s.ReleasePending {
		if !s.inFlightReads(l) {
			logs = append(logs, l)
		}
	}
	if len(logs) == 0 {
		return nil
	}
	return []Action{ReleaseLogs{Logs: logs}}
}

// inFlightReads reports whether the cycle in flight uploads from log.
func (s *State) inFlightReads(log string) bool {
	if s.InFlight == nil {
		return false
	}
	for _, d := range s.InFlight.Disks {
		if slices.Contains(d.Logs, log) {
			return true
		}
	}
	return false
}

// logsReleased forgets the logs the host released.
func (s *State) logsReleased(e LogsReleased) error {
	n := len(s.ReleasePending)
	s.ReleasePending = slices.DeleteFunc(s.ReleasePending, func(l string) bool { return slices.Contains(e.Logs, l) })
	if len(s.ReleasePending) == n {
		return fmt.Errorf("%w: none of the %d logs is pending release", ErrStale, len(e.Logs))
	}
	if len(s.ReleasePending) == 0 {
		s.ReleasePending = nil
	}
	return nil
}
