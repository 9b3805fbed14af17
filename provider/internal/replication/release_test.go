package replication

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// cycleLogs are the logs switched() hands out for every cycle.
var cycleLogs = []string{"/l/d0_1.hrl", "/l/d1_1.hrl"}

func releaseOf(t *testing.T, acts []Action) []string {
	t.Helper()
	for _, a := range acts {
		if r, ok := a.(ReleaseLogs); ok {
			return r.Logs
		}
	}
	return nil
}

func TestConfigNext_cycleReportedReleasesItsLogs(t *testing.T) {
	s := walk(t, toReporting()...)
	n, acts, err := testConfig().Next(s, CycleReported{Cycle: 2, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(n.ReleasePending, cycleLogs) || !slices.Equal(releaseOf(t, acts), cycleLogs) {
		t.Fatalf("pending %v, released %v; want %v in both", n.ReleasePending, releaseOf(t, acts), cycleLogs)
	}
	if len(s.ReleasePending) != 0 {
		t.Fatal("Next changed the state it was given")
	}
}

// A provider that stopped after the report was stored but before the
// host deleted the logs releases them when it starts again.
func TestConfigNext_resumeReleasesWhatACrashLeftPending(t *testing.T) {
	s := walk(t, toDeltaAfterCycle()...)
	_, acts, err := testConfig().Next(s, Resume{At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if got := releaseOf(t, acts); !slices.Equal(got, cycleLogs) {
		t.Fatalf("resume releases %v, want %v", got, cycleLogs)
	}
}

func TestConfigNext_logsReleasedForgetsThemOnce(t *testing.T) {
	s := walk(t, append(toDeltaAfterCycle(), LogsReleased{Logs: cycleLogs[:1]})...)
	if !slices.Equal(s.ReleasePending, cycleLogs[1:]) {
		t.Fatalf("pending %v after releasing %v", s.ReleasePending, cycleLogs[:1])
	}
	s = walk(t, append(toDeltaAfterCycle(), LogsReleased{Logs: cycleLogs})...)
	if s.ReleasePending != nil {
		t.Fatalf("pending %v after releasing all", s.ReleasePending)
	}
	n, _, err := testConfig().Next(s, LogsReleased{Logs: cycleLogs})
	if !errors.Is(err, ErrStale) || !reflect.DeepEqual(n, s) {
		t.Fatalf("repeat: %v, want ErrStale and no change", err)
	}
	if _, acts, err := testConfig().Next(s, Resume{At: t0}); err == nil && releaseOf(t, acts) != nil {
		t.Fatalf("resume with nothing pending releases %v", releaseOf(t, acts))
	}
}

// A release the host failed is asked for again with the next cycle's.
func TestConfigNext_failedReleaseRidesWithTheNextCycle(t *testing.T) {
	at := t0.Add(time.Minute)
	sw := Switched{Cycle: 3, HostSwitch: 2, At: at, Disks: []SwitchedDisk{
		{ID: "d0", Logs: []string{"/l/d0_2.hrl"}, DataWriteGUID: "g0"}, {ID: "d1", Logs: []string{"/l/d1_2.hrl"}, DataWriteGUID: "g1"}}}
	s := walk(t, append(toDeltaAfterCycle(), Tick{At: at}, sw, uploaded(3))...)
	_, acts, err := testConfig().Next(s, CycleReported{Cycle: 3, At: at})
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(cycleLogs), "/l/d0_2.hrl", "/l/d1_2.hrl")
	if got := releaseOf(t, acts); !slices.Equal(got, want) {
		t.Fatalf("release %v, want %v", got, want)
	}
}

func TestConfigNext_releaseSparesTheCycleInFlight(t *testing.T) {
	s := walk(t, toUploading()...)
	s.ReleasePending = []string{"/l/old.hrl", cycleLogs[0]}
	_, acts, err := testConfig().Next(s, Resume{At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if got := releaseOf(t, acts); !slices.Equal(got, []string{"/l/old.hrl"}) {
		t.Fatalf("release %v, want only /l/old.hrl", got)
	}
}

func TestConfigNext_releasePendingIsBounded(t *testing.T) {
	s := walk(t, toReporting()...)
	for i := range MaxReleasePending {
		s.ReleasePending = append(s.ReleasePending, fmt.Sprintf("/l/old_%d.hrl", i))
	}
	n, _, err := testConfig().Next(s, CycleReported{Cycle: 2, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.ReleasePending) != MaxReleasePending || !slices.Equal(n.ReleasePending[MaxReleasePending-2:], cycleLogs) {
		t.Fatalf("%d pending ending %v, want %d ending with the newest logs", len(n.ReleasePending), n.ReleasePending[len(n.ReleasePending)-2:], MaxReleasePending)
	}
}

// toNumberedSwitching copies on a host that numbers its switches (four
// made before the checkpoint) and starts the first cycle.
func toNumberedSwitching() []Event {
	evs := append(toEnabling(), CheckpointCreated{Generation: 1, Frozen: frozen(), Numbered: true, HostSwitch: 4})
	evs = append(evs, toSwitching()[len(toCopying()):]...)
	return evs
}

func TestConfigNext_numberedSwitches(t *testing.T) {
	expect := func(n uint64) func(*testing.T, State, []Action) {
		return func(t *testing.T, _ State, acts []Action) {
			if sl := acts[len(acts)-1].(SwitchLogs); sl.Expect != n {
				t.Errorf("switch expects host switch %d, want %d", sl.Expect, n)
			}
		}
	}
	fresh := append(toEnabling(), CheckpointCreated{Generation: 1, Frozen: frozen(), Numbered: true})
	fresh = append(fresh, toSwitching()[len(toCopying()):]...)
	runTransitions(t, []transition{
		{"first cycle expects the switch after the checkpoint's", toNumberedSwitching()[:len(toNumberedSwitching())-1], Tick{At: t0},
			PhaseDeltaReplication, []string{"switch_logs"}, expect(5)},
		{"resume during first switch looks it up, no resync", toNumberedSwitching(), Resume{At: t0}, PhaseDeltaReplication, []string{"switch_logs"}, expect(5)},
		{"resume during first switch of a fresh host", fresh, Resume{At: t0}, PhaseDeltaReplication, []string{"switch_logs"}, expect(1)},
		{"gap after the checkpoint resyncs", toNumberedSwitching(), switched(2, 6, t0), PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"switch after the checkpoint's uploads", toNumberedSwitching(), switched(2, 5, t0), PhaseDeltaReplication, []string{"upload_cycle"}, nil},
		{"unnumbered host still resyncs", toSwitching(), Resume{At: t0}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
	})
}
