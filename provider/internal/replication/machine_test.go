package replication

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

type transition struct {
	name    string
	from    []Event
	ev      Event
	phase   Phase
	actions []string
	check   func(t *testing.T, s State, acts []Action)
}

func actionNames(acts []Action) []string {
	out := []string{}
	for _, a := range acts {
		out = append(out, a.Name())
	}
	return out
}

func runTransitions(t *testing.T, rows []transition) {
	t.Helper()
	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			s := walk(t, tt.from...)
			n, acts, err := testConfig().Next(s, tt.ev)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if n.Phase != tt.phase {
				t.Errorf("phase %q, want %q", n.Phase, tt.phase)
			}
			if got := actionNames(acts); !slices.Equal(got, tt.actions) {
				t.Errorf("actions %v, want %v", got, tt.actions)
			}
			if n.Seq != s.Seq+1 {
				t.Errorf("seq %d after %d", n.Seq, s.Seq)
			}
			if tt.check != nil {
				tt.check(t, n, acts)
			}
		})
	}
}

func TestConfigNext_copyTransitions(t *testing.T) {
	runTransitions(t, []transition{
		{"enable fresh vm", nil, enableEvent(), PhaseEnabling, []string{"prepare_checkpoint"}, func(t *testing.T, s State, _ []Action) {
			if s.Generation != 1 || s.BaseCycle != 1 || len(s.Disks) != 2 {
				t.Errorf("generation %d base %d disks %d", s.Generation, s.BaseCycle, len(s.Disks))
			}
		}},
		{"enable disabled vm", toDisabled(), enableEvent(), PhaseEnabling, []string{"prepare_checkpoint"}, func(t *testing.T, s State, _ []Action) {
			if s.Generation != 2 || s.BaseCycle != 2 {
				t.Errorf("re-enable: generation %d base cycle %d, want 2 and 2 (numbers never reused)", s.Generation, s.BaseCycle)
			}
		}},
		{"checkpoint starts first disk", toEnabling(), CheckpointCreated{Generation: 1, Frozen: frozen()}, PhaseInitialReplication, []string{"copy_disk"},
			func(t *testing.T, s State, acts []Action) {
				c := acts[0].(CopyDisk)
				if c.DiskID != "d0" || c.Frozen != "/f/d0.vhdx" || c.JobID != CopyJobID("vm1", "d0", 1) || s.Disks[0].Copy != DiskCopying {
					t.Errorf("copy %+v, disk %+v", c, s.Disks[0])
				}
			}},
		{"progress", toCopying(), CopyProgress{Generation: 1, DiskID: "d0", Done: 5, Total: 64 << 20}, PhaseInitialReplication, []string{},
			func(t *testing.T, s State, _ []Action) {
				if s.Disks[0].BytesDone != 5 {
					t.Errorf("bytes done %d", s.Disks[0].BytesDone)
				}
			}},
		{"first disk done starts second", toCopying(), CopyDone{Generation: 1, DiskID: "d0", Total: 9, Object: "b0"}, PhaseInitialReplication, []string{"copy_disk"},
			func(t *testing.T, s State, acts []Action) {
				if acts[0].(CopyDisk).DiskID != "d1" || s.Disks[0].Copy != DiskCopied || s.Disks[0].Base != "b0" {
					t.Errorf("after d0: %+v", s.Disks)
				}
			}},
		{"last disk done merges", toCopyingD1(), CopyDone{Generation: 1, DiskID: "d1", Total: 9, Object: "b1"}, PhaseInitialReplication, []string{"delete_checkpoint"},
			func(t *testing.T, s State, acts []Action) {
				if s.CopyStage != StageMerging || acts[0].(DeleteCheckpoint).Generation != 1 {
					t.Errorf("stage %s action %+v", s.CopyStage, acts[0])
				}
			}},
		{"merged reports base", toMerging(), CheckpointDeleted{Generation: 1}, PhaseInitialReplication, []string{"report"},
			func(t *testing.T, _ State, acts []Action) {
				m := acts[0].(Report).Manifest
				if m.Kind != ManifestBase || m.Cycle != 1 || m.Previous != 0 || len(m.Disks) != 2 || m.Disks[1].Object != "b1" {
					t.Errorf("base manifest %+v", m)
				}
			}},
		{"base reported starts cycles", toReportingBase(), BaseReported{Cycle: 1}, PhaseDeltaReplication, []string{},
			func(t *testing.T, s State, _ []Action) {
				if s.LastCycle != 1 || s.CopyStage != "" {
					t.Errorf("last cycle %d stage %q", s.LastCycle, s.CopyStage)
				}
			}},
		{"source lost in initial copy starts over", toCopying(), SourceLost{Reason: "gone"}, PhaseEnabling, []string{"prepare_checkpoint"},
			func(t *testing.T, s State, _ []Action) {
				if s.Generation != 2 || s.BaseCycle != 1 {
					t.Errorf("generation %d base %d", s.Generation, s.BaseCycle)
				}
			}},
		{"resync checkpoint", toResyncRequired(), CheckpointCreated{Generation: 2, Frozen: frozen()}, PhaseResyncing, []string{"resync_disk"}, nil},
		{"resync merge", append(toResyncing(), CopyDone{Generation: 2, DiskID: "d0", Total: 1, Object: "r0"}),
			CopyDone{Generation: 2, DiskID: "d1", Total: 1, Object: "r1"}, PhaseResyncing, []string{"delete_checkpoint"},
			func(t *testing.T, _ State, acts []Action) {
				if acts[0].(DeleteCheckpoint).Generation != 2 {
					t.Errorf("delete_checkpoint %+v, want generation 2", acts[0])
				}
			}},
		{"source lost in resync resyncs again", toResyncing(), SourceLost{Reason: "bad"}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
	})
}

func TestConfigNext_cycleTransitions(t *testing.T) {
	runTransitions(t, []transition{
		{"tick starts cycle", toDelta(), Tick{At: t0}, PhaseDeltaReplication, []string{"switch_logs"}, func(t *testing.T, s State, acts []Action) {
			if s.InFlight.Number != 2 || s.InFlight.Previous != 1 || acts[0].(SwitchLogs).Cycle != 2 {
				t.Errorf("cycle %+v", s.InFlight)
			}
		}},
		{"switch uploads", toSwitching(), switched(2, 1, t0), PhaseDeltaReplication, []string{"upload_cycle"}, func(t *testing.T, s State, acts []Action) {
			u := acts[0].(UploadCycle)
			if u.JobID != CycleJobID("vm1", 2) || len(u.Cycle.Disks) != 2 || u.Sizes["d0"] != 64<<20 || s.Disks[0].PendingLogBytes != 1<<20 {
				t.Errorf("upload %+v", u)
			}
		}},
		{"switch warns at 35%", toSwitching(), withLogs(switched(2, 1, t0), 12<<20), PhaseDeltaReplication, []string{"upload_cycle", "health"}, nil},
		{"switch resyncs at 50%", toSwitching(), withLogs(switched(2, 1, t0), 16<<20), PhaseResyncRequired, []string{"prepare_checkpoint", "health"},
			func(t *testing.T, s State, _ []Action) {
				if s.BaseCycle != 2 || s.InFlight != nil || s.Generation != 2 {
					t.Errorf("resync takes cycle %d (in flight %v, generation %d), want 2", s.BaseCycle, s.InFlight, s.Generation)
				}
			}},
		{"host says resync", toSwitching(), Switched{Cycle: 2, HostSwitch: 1, ResyncNeeded: true, Reason: "crash"}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"host switch gap resyncs", toDeltaAfterTwo(), switched(3, 3, t0.Add(time.Minute)), PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"switch missing a disk resyncs", toSwitching(), Switched{Cycle: 2, HostSwitch: 1, Disks: switched(2, 1, t0).Disks[:1]}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"tracking off, guid same", toSwitching(), TrackingOff{Cycle: 2, GUIDs: map[string]string{"d0": "g0", "d1": "g1"}}, PhaseDeltaReplication, []string{"start_tracking", "switch_logs"}, nil},
		{"tracking off, guid changed", toSwitching(), TrackingOff{Cycle: 2, GUIDs: map[string]string{"d0": "g0", "d1": "other"}}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"uploaded reports", toUploading(), uploaded(2), PhaseDeltaReplication, []string{"report"}, func(t *testing.T, _ State, acts []Action) {
			m := acts[0].(Report).Manifest
			if m.Kind != ManifestDelta || m.Cycle != 2 || m.Previous != 1 || m.HostSwitch != 1 || m.Disks[0].Object != "o0" || m.Disks[0].LogIDs[0] != "d0_1.hrl" {
				t.Errorf("manifest %+v", m)
			}
		}},
		{"upload source lost resyncs", toUploading(), SourceLost{Reason: "log corrupt"}, PhaseResyncRequired, []string{"prepare_checkpoint", "health"}, nil},
		{"reported closes cycle", toReporting(), CycleReported{Cycle: 2, At: t0}, PhaseDeltaReplication, []string{"release_logs"}, func(t *testing.T, s State, _ []Action) {
			if s.LastCycle != 2 || s.InFlight != nil || !s.NextCycleAt.Equal(t0.Add(30*time.Second)) {
				t.Errorf("last %d in flight %v next %s", s.LastCycle, s.InFlight, s.NextCycleAt)
			}
		}},
		{"tick during upload counts overrun", append(toDeltaAfterCycle(), Tick{At: t0.Add(30 * time.Second)}), Tick{At: t0.Add(time.Hour)},
			PhaseDeltaReplication, []string{}, func(t *testing.T, s State, _ []Action) {
				if s.Overruns != 1 || !s.InFlight.Overran {
					t.Errorf("overruns %d", s.Overruns)
				}
			}},
	})
}

// withLogs sets the log size of disk d1 (32 MiB).
func withLogs(e Switched, n int64) Switched {
	e.Disks = slices.Clone(e.Disks)
	e.Disks[1].LogBytes = n
	return e
}

// toDeltaAfterTwo ends with cycle 3 being reported, after cycle 2.
func toDeltaAfterTwo() []Event {
	at := t0.Add(time.Minute)
	return append(toDeltaAfterCycle(), Tick{At: at})
}

func TestConfigNext_rpoIsSwitchSpacing(t *testing.T) {
	s := walk(t, append(toDeltaAfterTwo(), switched(3, 2, t0.Add(time.Minute)), uploaded(3), CycleReported{Cycle: 3, At: t0.Add(2 * time.Minute)})...)
	if s.LastRPO != time.Minute || s.MaxRPO != time.Minute || s.LastCycle != 3 {
		t.Fatalf("rpo %s max %s last %d, want 1m, 1m, 3", s.LastRPO, s.MaxRPO, s.LastCycle)
	}
}

func TestConfigNext_unknownEventRejected(t *testing.T) {
	type bogus struct{ Tick }
	s := walk(t, toDelta()...)
	n, _, err := testConfig().Next(s, bogus{})
	if !errors.Is(err, ErrInvalidTransition) || !reflect.DeepEqual(n, s) {
		t.Fatalf("unknown event: %v", err)
	}
}
