package replication

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestConfigNext_commandTransitions(t *testing.T) {
	runTransitions(t, []transition{
		{"disable during copy", toCopying(), Disable{}, PhaseDisabling, []string{"cleanup"}, nil},
		{"disable during upload", toUploading(), Disable{}, PhaseDisabling, []string{"cleanup"}, func(t *testing.T, s State, _ []Action) {
			if s.InFlight != nil {
				t.Error("cycle kept after disable")
			}
		}},
		{"disable failed vm", toFailedCopy(), Disable{}, PhaseDisabling, []string{"cleanup"}, nil},
		{"disabled", toDisabling(), Disabled{}, PhaseDisabled, []string{}, func(t *testing.T, s State, _ []Action) {
			if s.LastCycle != 1 || s.Generation != 1 {
				t.Errorf("counters lost: last %d generation %d", s.LastCycle, s.Generation)
			}
		}},
		{"resync when idle", toDelta(), Resync{}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"resync while paused", toPaused(), Resync{}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"resync waits for the cycle being reported", toReporting(), Resync{}, PhaseDeltaReplication, []string{}, func(t *testing.T, s State, _ []Action) {
			if !s.ResyncPending {
				t.Error("resync not pending")
			}
		}},
		{"pending resync after report", append(toReporting(), Resync{}), CycleReported{Cycle: 2, At: t0}, PhaseResyncRequired, []string{"release_logs", "prepare_checkpoint", "health"},
			func(t *testing.T, s State, _ []Action) {
				if s.BaseCycle != 3 {
					t.Errorf("base cycle %d, want 3", s.BaseCycle)
				}
			}},
		{"resync failed delta vm", toFailedUpload(), Resync{}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"pause", toDelta(), Pause{}, PhasePaused, []string{}, nil},
		{"unpause", toPaused(), Unpause{}, PhaseDeltaReplication, []string{}, nil},
		{"paused vm finishes its cycle", append(toUploading(), Pause{}), uploaded(2), PhasePaused, []string{"report"}, nil},
		{"migrate idle", toDelta(), Migrate{Shutdown: true}, PhaseMigrating, []string{"shutdown_guest"}, func(t *testing.T, _ State, acts []Action) {
			if !acts[0].(ShutdownGuest).Shutdown {
				t.Error("the command asks for shutdown")
			}
		}},
		{"migrate without shutdown", toDelta(), Migrate{}, PhaseMigrating, []string{"shutdown_guest"}, func(t *testing.T, _ State, acts []Action) {
			if acts[0].(ShutdownGuest).Shutdown {
				t.Error("the command asks for no shutdown")
			}
		}},
		{"migrate drains", toUploading(), Migrate{}, PhaseMigrating, []string{}, func(t *testing.T, s State, _ []Action) {
			if s.Migrate != MigrateDraining {
				t.Errorf("stage %s", s.Migrate)
			}
		}},
		{"drained shuts down", append(toMigrateDraining(), uploaded(2)), CycleReported{Cycle: 2, At: t0}, PhaseMigrating, []string{"release_logs", "shutdown_guest"}, nil},
		{"shut down starts final cycle", toMigrateShutdown(), ShutDown{}, PhaseMigrating, []string{"switch_logs"}, func(t *testing.T, s State, _ []Action) {
			if !s.InFlight.Final || s.InFlight.Number != 2 {
				t.Errorf("final cycle %+v", s.InFlight)
			}
		}},
		{"final reported", append(toMigrateFinal(), switched(2, 1, t0), uploaded(2)), CycleReported{Cycle: 2, At: t0}, PhaseMigrated, []string{"release_logs", "stop_tracking"}, nil},
		{"test migrate", toDelta(), TestMigrate{}, PhaseDeltaReplication, []string{"health"}, nil},
		{"action failed", toCopying(), ActionFailed{Action: "copy_disk", Err: "x", At: t0}, PhaseFailed, []string{"health"}, func(t *testing.T, s State, _ []Action) {
			if s.Failure.From != PhaseInitialReplication || !s.Failure.NextRetry.Equal(t0.Add(time.Minute)) || s.Failure.Attempts != 1 {
				t.Errorf("failure %+v", s.Failure)
			}
		}},
		{"retry due", toFailedCopy(), Tick{At: t0.Add(time.Minute)}, PhaseInitialReplication, []string{"copy_disk"}, func(t *testing.T, s State, acts []Action) {
			if acts[0].(CopyDisk).DiskID != "d0" || s.Failure != nil {
				t.Errorf("retry %+v", acts[0])
			}
		}},
		{"retry of upload", toFailedUpload(), Tick{At: t0.Add(time.Hour)}, PhaseDeltaReplication, []string{"upload_cycle"}, nil},
		{"resume after restart", toUploading(), Resume{At: t0}, PhaseDeltaReplication, []string{"upload_cycle"}, nil},
		{"resume during first switch after copy resyncs", toSwitching(), Resume{At: t0}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"resume during later switch releases and switches again", append(toDeltaAfterCycle(), Tick{At: t0.Add(time.Hour)}), Resume{At: t0}, PhaseDeltaReplication, []string{"release_logs", "switch_logs"}, nil},
		{"retry of first switch after copy resyncs", append(toSwitching(), ActionFailed{Action: "switch_logs", Err: "timeout", At: t0}), Tick{At: t0.Add(time.Hour)},
			PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"resume enabling", toEnabling(), Resume{At: t0}, PhaseEnabling, []string{"prepare_checkpoint"}, nil},
		{"resume disabling", toDisabling(), Resume{At: t0}, PhaseDisabling, []string{"cleanup"}, nil},
		{"resume shutdown", toMigrateShutdown(), Resume{At: t0}, PhaseMigrating, []string{"shutdown_guest"}, nil},
	})
}

func TestConfig_RetryAfter_backsOff(t *testing.T) {
	c := DefaultConfig()
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	s := walk(t, toCopying()...)
	at := t0
	for i, w := range want {
		if got := c.RetryAfter(i + 1); got != w {
			t.Errorf("retry %d after %s, want %s", i+1, got, w)
		}
		var err error
		s, _, err = c.Next(s, ActionFailed{Action: "copy_disk", Err: "down", At: at})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Failure.NextRetry.Sub(at); got != w {
			t.Errorf("failure %d retries after %s, want %s", i+1, got, w)
		}
		at = s.Failure.NextRetry
		if s, _, err = c.Next(s, Tick{At: at}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConfigNext_invalidRejected(t *testing.T) {
	rows := []struct {
		name string
		from []Event
		ev   Event
		want error
	}{
		{"enable twice", toDelta(), enableEvent(), ErrInvalidTransition},
		{"enable with short interval", nil, Enable{Policy: Policy{Interval: time.Millisecond}, Disks: twoDisks()}, ErrInvalidPolicy},
		{"enable without disks", nil, Enable{Policy: Policy{Interval: time.Minute}}, ErrInvalidPolicy},
		{"enable with duplicate disks", nil, Enable{Policy: Policy{Interval: time.Minute}, Disks: []DiskSpec{{ID: "a", Size: 1}, {ID: "a", Size: 1}}}, ErrInvalidPolicy},
		{"enable with 33 threads", nil, Enable{Policy: Policy{Interval: time.Minute, Threads: 33}, Disks: twoDisks()}, ErrInvalidPolicy},
		{"checkpoint of old generation", toResyncRequired(), CheckpointCreated{Generation: 1, Frozen: frozen()}, ErrStale},
		{"checkpoint missing a disk", toEnabling(), CheckpointCreated{Generation: 1, Frozen: map[string]string{"d0": "x"}}, ErrInvalidTransition},
		{"checkpoint in delta", toDelta(), CheckpointCreated{Generation: 1, Frozen: frozen()}, ErrInvalidTransition},
		{"copy done twice", toCopyingD1(), CopyDone{Generation: 1, DiskID: "d0", Object: "b0"}, ErrStale},
		{"copy done out of order", toCopying(), CopyDone{Generation: 1, DiskID: "d1", Object: "b1"}, ErrStale},
		{"copy done without blob", toCopying(), CopyDone{Generation: 1, DiskID: "d0"}, ErrInvalidTransition},
		{"copy of old generation", toResyncing(), CopyDone{Generation: 1, DiskID: "d0", Object: "b"}, ErrStale},
		{"merge before copies", toCopying(), CheckpointDeleted{Generation: 1}, ErrStale},
		{"base reported twice", toDelta(), BaseReported{Cycle: 1}, ErrStale},
		{"tick before due", toDeltaAfterCycle(), Tick{At: t0.Add(time.Second)}, ErrIgnored},
		{"tick while copying", toCopying(), Tick{At: t0}, ErrIgnored},
		{"retry not due", toFailedCopy(), Tick{At: t0.Add(time.Second)}, ErrIgnored},
		{"switch of another cycle", toSwitching(), switched(3, 1, t0), ErrStale},
		{"switch twice", toUploading(), switched(2, 1, t0), ErrStale},
		{"upload before switch", toSwitching(), uploaded(2), ErrStale},
		{"upload without objects", toUploading(), Uploaded{Cycle: 2}, ErrInvalidTransition},
		{"report of no cycle", toDelta(), CycleReported{Cycle: 2}, ErrStale},
		{"report skipping ahead", toReporting(), CycleReported{Cycle: 3}, ErrStale},
		{"source lost when idle", toDelta(), SourceLost{Reason: "x"}, ErrStale},
		{"disable twice", toDisabling(), Disable{}, ErrIgnored},
		{"disable fresh", nil, Disable{}, ErrInvalidTransition},
		{"disabled without disabling", toDelta(), Disabled{}, ErrInvalidTransition},
		{"resync during initial copy", toCopying(), Resync{}, ErrInvalidTransition},
		{"resync twice", toResyncRequired(), Resync{}, ErrIgnored},
		{"pause while copying", toCopying(), Pause{}, ErrInvalidTransition},
		{"unpause running", toDelta(), Unpause{}, ErrInvalidTransition},
		{"migrate while copying", toCopying(), Migrate{}, ErrInvalidTransition},
		{"migrate twice", toMigrateShutdown(), Migrate{}, ErrInvalidTransition},
		{"shut down unasked", toDelta(), ShutDown{}, ErrStale},
		{"test migrate while copying", toCopying(), TestMigrate{}, ErrInvalidTransition},
		{"failure after migration", toMigrated(), ActionFailed{Action: "x", Err: "y", At: t0}, ErrInvalidTransition},
		{"failure while failed", toFailedCopy(), ActionFailed{Action: "x", Err: "y", At: t0}, ErrStale},
		{"resume failed before due", toFailedCopy(), Resume{At: t0}, ErrIgnored},
		{"resume idle", toDelta(), Resume{At: t0}, ErrIgnored},
		{"cycle event while failed", toFailedUpload(), uploaded(2), ErrInvalidTransition},
	}
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			s := walk(t, tt.from...)
			n, acts, err := testConfig().Next(s, tt.ev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !reflect.DeepEqual(n, s) || acts != nil {
				t.Fatalf("rejected event changed the state or returned actions %v", acts)
			}
			t.Log(err)
		})
	}
}
