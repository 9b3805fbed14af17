package replication

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testConfig() Config {
	c := DefaultConfig()
	c.MinInterval = time.Second
	return c
}

func twoDisks() []DiskSpec {
	return []DiskSpec{{ID: "d0", Size: 64 << 20, DataWriteGUID: "g0"}, {ID: "d1", Size: 32 << 20, DataWriteGUID: "g1"}}
}

func enableEvent() Enable {
	return Enable{Policy: Policy{Interval: 30 * time.Second, ShutdownOnMigrate: true}, Disks: twoDisks()}
}

// walk applies events from a fresh VM and fails the test on any error.
func walk(t *testing.T, evs ...Event) State {
	t.Helper()
	s := State{VMID: "vm1"}
	for _, e := range evs {
		n, _, err := testConfig().Next(s, e)
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		s = n
	}
	return s
}

func frozen() map[string]string { return map[string]string{"d0": "/f/d0.vhdx", "d1": "/f/d1.vhdx"} }

func switched(cycle, host uint64, at time.Time) Switched {
	return Switched{Cycle: cycle, HostSwitch: host, At: at, Disks: []SwitchedDisk{
		{ID: "d0", Logs: []string{"/l/d0_1.hrl"}, LogBytes: 1 << 20, DataWriteGUID: "g0"},
		{ID: "d1", Logs: []string{"/l/d1_1.hrl"}, LogBytes: 1 << 20, DataWriteGUID: "g1"},
	}}
}

func uploaded(cycle uint64) Uploaded {
	return Uploaded{Cycle: cycle, Disks: []UploadedDisk{{ID: "d0", Object: "o0", Bytes: 10}, {ID: "d1", Object: "o1", Bytes: 20}}}
}

// Fixtures: the events that reach each phase from a fresh VM.
func toEnabling() []Event { return []Event{enableEvent()} }
func toCopying() []Event {
	return append(toEnabling(), CheckpointCreated{Generation: 1, Frozen: frozen()})
}
func toCopyingD1() []Event {
	return append(toCopying(), CopyDone{Generation: 1, DiskID: "d0", Total: 64 << 20, Object: "b0"})
}
func toMerging() []Event {
	return append(toCopyingD1(), CopyDone{Generation: 1, DiskID: "d1", Total: 32 << 20, Object: "b1"})
}
func toReportingBase() []Event { return append(toMerging(), CheckpointDeleted{Generation: 1}) }
func toDelta() []Event         { return append(toReportingBase(), BaseReported{Cycle: 1}) }
func toSwitching() []Event     { return append(toDelta(), Tick{At: t0}) }
func toUploading() []Event     { return append(toSwitching(), switched(2, 1, t0)) }
func toReporting() []Event     { return append(toUploading(), uploaded(2)) }
func toDeltaAfterCycle() []Event {
	return append(toReporting(), CycleReported{Cycle: 2, At: t0.Add(time.Second)})
}
func toResyncRequired() []Event { return append(toDelta(), Resync{Reason: "test"}) }
func toResyncing() []Event {
	return append(toResyncRequired(), CheckpointCreated{Generation: 2, Frozen: frozen()})
}
func toPaused() []Event          { return append(toDelta(), Pause{}) }
func toMigrateShutdown() []Event { return append(toDelta(), Migrate{}) }
func toMigrateDraining() []Event { return append(toUploading(), Migrate{}) }
func toMigrateFinal() []Event    { return append(toMigrateShutdown(), ShutDown{}) }
func toMigrated() []Event {
	return append(toMigrateFinal(), switched(2, 1, t0), uploaded(2), CycleReported{Cycle: 2, At: t0})
}
func toDisabling() []Event { return append(toDelta(), Disable{}) }
func toDisabled() []Event  { return append(toDisabling(), Disabled{}) }
func toFailedCopy() []Event {
	return append(toCopying(), ActionFailed{Action: "copy_disk", Err: "agent unavailable", At: t0})
}
func toFailedUpload() []Event {
	return append(toUploading(), ActionFailed{Action: "upload_cycle", Err: "hub unavailable", At: t0})
}
