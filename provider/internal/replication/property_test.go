package replication_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	. "hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/store"
)

// world plays the host, the agent and the hub for the machine: it runs
// actions with random faults and keeps the durable state in a real store
// file that a simulated provider restart reopens.
type world struct {
	t       *rapid.T
	cfg     Config
	path    string
	st      *store.Store
	state   State
	pending []Action
	now     time.Time

	hostSwitch uint64
	tracking   bool
	reported   map[uint64]Manifest // every manifest the hub accepted, by cycle
	hubLast    uint64              // last cycle the hub holds in this enablement
	fresh      bool                // no manifest yet in this enablement
	maxSeen    uint64
	steps      map[string]int

	// numbered hosts report their switch count at the checkpoint and look
	// up a switch by number (every host here numbers its switches).
	numbered bool
	switches map[uint64]Switched
}

var disks = []DiskSpec{{ID: "d0", Size: 64 << 20, DataWriteGUID: "g0"}, {ID: "d1", Size: 16 << 20, DataWriteGUID: "g1"}, {ID: "d2", Size: 8 << 20}}

func newWorld(t *rapid.T, dir string) *world {
	cfg := DefaultConfig()
	cfg.MinInterval = time.Second
	w := &world{t: t, cfg: cfg, path: filepath.Join(dir, "state.db"), now: time.Unix(1e9, 0).UTC(),
		reported: map[uint64]Manifest{}, steps: map[string]int{}, state: State{VMID: "vm1"}}
	w.open()
	return w
}

func (w *world) open() {
	cfg := store.DefaultConfig(w.path)
	cfg.NoSync = true
	st, err := store.Open(cfg)
	if err != nil {
		w.t.Fatalf("open store: %v", err)
	}
	w.st = st
}

// feed applies an event; an accepted one is stored before its actions
// are queued, as the driver does.
func (w *world) feed(e Event) {
	n, acts, err := w.cfg.Next(w.state, e)
	if err != nil {
		if !errors.Is(err, ErrInvalidTransition) && !errors.Is(err, ErrStale) && !errors.Is(err, ErrIgnored) && !errors.Is(err, ErrInvalidPolicy) {
			w.t.Fatalf("unclassified error: %v", err)
		}
		if !reflect.DeepEqual(n, w.state) {
			w.t.Fatalf("rejected %s changed the state", e.Name())
		}
		return
	}
	if err := n.Validate(); err != nil {
		w.t.Fatalf("invalid state after %s: %v", e.Name(), err)
	}
	if n.LastCycle < w.state.LastCycle || n.Generation < w.state.Generation {
		w.t.Fatalf("%s moved counters back: cycle %d→%d generation %d→%d", e.Name(), w.state.LastCycle, n.LastCycle, w.state.Generation, n.Generation)
	}
	if err := w.st.Put(n); err != nil {
		w.t.Fatalf("put: %v", err)
	}
	w.steps[string(n.Phase)]++
	w.state = n
	w.pending = append(w.pending, acts...)
	if _, ok := e.(Disabled); ok {
		w.fresh = true
	}
}

// restart drops everything in memory, reopens the file and resumes.
func (w *world) restart() {
	if err := w.st.Close(); err != nil {
		w.t.Fatal(err)
	}
	w.open()
	st, ok, err := w.st.Get("vm1")
	if err != nil {
		w.t.Fatalf("reload: %v", err)
	}
	if ok && !sameJSON(st, w.state) {
		w.t.Fatalf("reloaded state differs:\n%+v\n%+v", st, w.state)
	}
	w.pending = nil
	w.feed(Resume{At: w.now})
}

// hubAccept records a manifest, checking that cycle numbers are never
// reused for other content and never skipped within an enablement.
func (w *world) hubAccept(m Manifest) {
	if old, ok := w.reported[m.Cycle]; ok {
		if !reflect.DeepEqual(old, m) {
			w.t.Fatalf("cycle %d reported twice with different content:\n%+v\n%+v", m.Cycle, old, m)
		}
		return
	}
	switch {
	case w.fresh && m.Cycle <= w.maxSeen:
		w.t.Fatalf("cycle %d reused after re-enable (highest seen %d)", m.Cycle, w.maxSeen)
	case !w.fresh && (m.Cycle != w.hubLast+1 || m.Previous != w.hubLast):
		w.t.Fatalf("cycle %d (previous %d) reported after %d: a number was skipped", m.Cycle, m.Previous, w.hubLast)
	case m.Previous+1 != m.Cycle:
		w.t.Fatalf("cycle %d has previous %d", m.Cycle, m.Previous)
	}
	w.reported[m.Cycle], w.hubLast, w.fresh = m, m.Cycle, false
	w.maxSeen = max(w.maxSeen, m.Cycle)
}

func sameJSON(a, b State) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestMachine_property_randomFaultsKeepStateValidAndCyclesContiguous(t *testing.T) {
	total := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		dir, err := os.MkdirTemp("", "machine")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		w := newWorld(t, dir)
		w.numbered, w.switches = rapid.Bool().Draw(t, "numbered"), map[uint64]Switched{}
		defer func() { w.st.Close() }()
		w.fresh = true
		w.feed(Enable{Policy: Policy{Interval: 30 * time.Second}, Disks: disks})
		n := rapid.IntRange(50, 600).Draw(t, "steps")
		for range n {
			w.step()
		}
		for k, v := range w.steps {
			total[k] += v
		}
	})
	t.Logf("phases visited: %v", total)
	for _, p := range []Phase{PhaseDeltaReplication, PhaseResyncing, PhaseFailed, PhaseMigrating, PhaseDisabled, PhasePaused} {
		if total[string(p)] == 0 {
			t.Errorf("no run reached %s: the generator is too weak", p)
		}
	}
}

func (w *world) step() {
	switch rapid.IntRange(0, 39).Draw(w.t, "op") {
	case 0:
		w.restart()
	case 1:
		w.command()
	case 2, 3, 4:
		w.now = w.now.Add(time.Duration(rapid.IntRange(1, 1200).Draw(w.t, "secs")) * time.Second)
		w.feed(Tick{At: w.now})
	default:
		w.runAction()
	}
}

func (w *world) command() {
	enable := Enable{Policy: Policy{Interval: 30 * time.Second, ShutdownOnMigrate: true}, Disks: disks}
	cmds := []Event{Disable{}, Resync{Reason: "hub"}, Resync{}, Pause{}, Unpause{}, Unpause{},
		Migrate{}, Migrate{}, Migrate{}, TestMigrate{}, enable, enable}
	w.feed(rapid.SampledFrom(cmds).Draw(w.t, "command"))
}

func (w *world) runAction() {
	if len(w.pending) == 0 {
		w.now = w.now.Add(time.Second)
		w.feed(Tick{At: w.now})
		return
	}
	a := w.pending[0]
	w.pending = w.pending[1:]
	fault := rapid.IntRange(0, 24).Draw(w.t, "fault")
	if fault == 0 && a.Name() != "health" && a.Name() != "release_logs" { // the driver never fails these
		w.feed(ActionFailed{Action: a.Name(), Err: "agent died or hub unreachable", At: w.now})
		return
	}
	ev := w.perform(a, fault)
	if fault == 1 || fault >= 21 {
		return // the effect happened, the provider died before hearing of it
	}
	if ev != nil {
		w.feed(ev)
	}
}

func (w *world) perform(a Action, fault int) Event {
	switch a := a.(type) {
	case PrepareCheckpoint:
		w.tracking = true
		fr := map[string]string{}
		for _, d := range disks {
			fr[d.ID] = fmt.Sprintf("/f/%s-g%d", d.ID, a.Generation)
		}
		cc := CheckpointCreated{Generation: a.Generation, Frozen: fr, Numbered: w.numbered}
		if w.numbered {
			cc.HostSwitch = w.hostSwitch
		}
		return cc
	case CopyDisk:
		if fault == 2 {
			return SourceLost{Reason: "frozen disk missing"}
		}
		return CopyDone{Generation: a.Generation, DiskID: a.DiskID, Total: 1, Object: fmt.Sprintf("base/%s/g%d", a.DiskID, a.Generation)}
	case DeleteCheckpoint:
		return CheckpointDeleted{Generation: a.Generation}
	case SwitchLogs:
		return w.switchLogs(a, fault)
	case UploadCycle:
		if fault == 2 {
			return SourceLost{Reason: "log lost"}
		}
		up := Uploaded{Cycle: a.Cycle.Number}
		for _, d := range a.Cycle.Disks {
			up.Disks = append(up.Disks, UploadedDisk{ID: d.ID, Object: fmt.Sprintf("delta/%s/c%d", d.ID, a.Cycle.Number), Bytes: 1})
		}
		return up
	case Report:
		w.hubAccept(a.Manifest)
		if a.Manifest.Kind == ManifestBase {
			return BaseReported{Cycle: a.Manifest.Cycle}
		}
		return CycleReported{Cycle: a.Manifest.Cycle, At: w.now}
	case StartTracking:
		w.tracking = true
	case ShutdownGuest:
		return ShutDown{}
	case Cleanup:
		w.tracking = false
		return Disabled{}
	case StopTracking:
		w.tracking = false
	case ReleaseLogs:
		return w.releaseLogs(a, fault)
	}
	return nil
}

// releaseLogs checks that only logs of cycles the hub accepted are
// released, never one the cycle in flight still reads.
func (w *world) releaseLogs(a ReleaseLogs, fault int) Event {
	for _, l := range a.Logs {
		if !w.reportedLog(l) {
			w.t.Fatalf("log %s released before the hub accepted its cycle", l)
		}
		if c := w.state.InFlight; c != nil {
			for _, d := range c.Disks {
				if slices.Contains(d.Logs, l) {
					w.t.Fatalf("log %s released while cycle %d reads it", l, c.Number)
				}
			}
		}
	}
	if fault == 5 {
		return nil // the host failed to delete them: a warning only
	}
	return LogsReleased{Logs: a.Logs}
}

// reportedLog reports whether a manifest the hub accepted names log.
func (w *world) reportedLog(log string) bool {
	for _, m := range w.reported {
		for _, d := range m.Disks {
			if slices.Contains(d.LogIDs, filepath.Base(log)) {
				return true
			}
		}
	}
	return false
}

func (w *world) switchLogs(a SwitchLogs, fault int) Event {
	if !w.tracking || fault == 3 {
		w.tracking = false
		return TrackingOff{Cycle: a.Cycle, GUIDs: map[string]string{"d0": "g0", "d1": rapid.SampledFrom([]string{"g1", "changed"}).Draw(w.t, "guid")}}
	}
	if old, ok := w.switches[a.Expect]; ok && w.numbered {
		old.Cycle = a.Cycle // made before the provider stopped: looked up
		return old
	}
	w.hostSwitch++
	sw := Switched{Cycle: a.Cycle, HostSwitch: w.hostSwitch, At: w.now, ResyncNeeded: fault == 4, Reason: "tracker crashed"}
	for _, d := range disks {
		logBytes := int64(rapid.IntRange(0, 60).Draw(w.t, "log_pct")) * d.Size / 100
		sw.Disks = append(sw.Disks, SwitchedDisk{ID: d.ID, Logs: []string{fmt.Sprintf("/l/%s-%d.hrl", d.ID, w.hostSwitch)}, LogBytes: logBytes, DataWriteGUID: d.DataWriteGUID})
	}
	w.switches[w.hostSwitch] = sw
	return sw
}
