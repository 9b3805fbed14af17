package hyperv

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"hvmigrate/provider/internal/host"
)

const (
	diskA = "aaaaaaaa-0000-0000-0000-000000000001"
	diskB = "aaaaaaaa-0000-0000-0000-000000000002"
)

// trackedVM returns a fake with vm1 (two disks) tracked, and its backend.
func trackedVM(t *testing.T) (*fakeHost, *Backend) {
	t.Helper()
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`, `D:\vms\b.vhdx`)
	b := newTestBackend(t, f)
	if err := b.StartTracking(context.Background(), "vm1"); err != nil {
		t.Fatal(err)
	}
	return f, b
}

func logPaths(f *fakeHost, base string) []string {
	var out []string
	for _, l := range f.logs[fakeLogKey(base)] {
		if l.Closed {
			out = append(out, l.Path)
		}
	}
	return out
}

func TestBackend_SwitchLogs_happy(t *testing.T) {
	f, b := trackedVM(t)
	ctx := context.Background()
	for cycle := 1; cycle <= 3; cycle++ {
		sw, err := b.SwitchLogs(ctx, "vm1")
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if sw.ResyncNeeded {
			t.Fatalf("cycle %d: resync needed: %s", cycle, sw.Reason)
		}
		closedA, closedB := logPaths(f, `C:\vms\a.vhdx`), logPaths(f, `D:\vms\b.vhdx`)
		want := map[string][]string{diskA: closedA[cycle-1:], diskB: closedB[cycle-1:]}
		if !reflect.DeepEqual(sw.Logs, want) {
			t.Fatalf("cycle %d: logs = %v, want %v", cycle, sw.Logs, want)
		}
	}
}

func TestBackend_SwitchLogs_severalLogsInChainOrder(t *testing.T) {
	f, b := trackedVM(t)
	keyA, keyB := fakeLogKey(`C:\vms\a.vhdx`), fakeLogKey(`D:\vms\b.vhdx`)
	f.rotate(keyA) // Hyper-V switched on its own twice since the last cycle
	f.rotate(keyA)
	f.rotate(keyB)
	f.rotate(keyB)
	// Listing order must not matter: reverse the stored order.
	for _, k := range []string{keyA, keyB} {
		l := f.logs[k]
		for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
			l[i], l[j] = l[j], l[i]
		}
	}
	sw, err := b.SwitchLogs(context.Background(), "vm1")
	if err != nil {
		t.Fatal(err)
	}
	for id, logs := range sw.Logs {
		if len(logs) != 3 {
			t.Fatalf("disk %s: %d logs, want 3: %v", id, len(logs), logs)
		}
	}
	byPath := map[string]logFile{}
	for _, l := range append(f.logs[keyA], f.logs[keyB]...) {
		byPath[l.Path] = l
	}
	for id, logs := range sw.Logs {
		for i := 1; i < len(logs); i++ {
			if byPath[logs[i]].Prev != byPath[logs[i-1]].ID {
				t.Errorf("disk %s: %s does not follow %s", id, logs[i], logs[i-1])
			}
		}
	}
}

func TestBackend_SwitchLogs_conditions(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *fakeHost)
		wantErr    error
		wantResync bool
	}{
		{name: "tracking off", wantErr: host.ErrTrackingOff,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication = replicationRecord{} }},
		{name: "vm not found", wantErr: host.ErrNotFound,
			setup: func(f *fakeHost) { delete(f.vms, "vm1") }},
		{name: "switch job fails", wantErr: errAnyCode,
			setup: func(f *fakeHost) { f.on("switchLog", jobFails) }},
		{name: "no switch observed", wantErr: host.ErrUnavailable,
			setup: func(f *fakeHost) { f.noSwitch = true }},
		{name: "host wants resync", wantResync: true,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication.State = replWaitingResync }},
		{name: "unreadable log", wantResync: true,
			setup: func(f *fakeHost) {
				k := fakeLogKey(`C:\vms\a.vhdx`)
				f.logs[k] = append(f.logs[k], logFile{Path: k + "-junk.hrl", Err: errors.New("bad cookie")})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, b := trackedVM(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			sw, err := b.SwitchLogs(context.Background(), "vm1")
			checkErr(t, err, tt.wantErr)
			if sw.ResyncNeeded != tt.wantResync {
				t.Errorf("resync = %v (%s), want %v", sw.ResyncNeeded, sw.Reason, tt.wantResync)
			}
			if tt.wantResync && (sw.Reason == "" || sw.Logs != nil) {
				t.Errorf("resync switch = %+v, want a reason and no logs", sw)
			}
		})
	}
}

func TestBackend_SwitchLogs_brokenChainUntilAcknowledged(t *testing.T) {
	f, b := trackedVM(t)
	ctx := context.Background()
	if _, err := b.SwitchLogs(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	// A log of disk A is lost: the next closed log does not follow the
	// one handed out.
	keyA := fakeLogKey(`C:\vms\a.vhdx`)
	f.rotate(keyA)
	lost := f.logs[keyA][1]
	f.logs[keyA] = append(f.logs[keyA][:1], f.logs[keyA][2:]...)
	f.logs[keyA][1].Prev = "log-elsewhere"
	sw, err := b.SwitchLogs(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if !sw.ResyncNeeded || !strings.Contains(sw.Reason, diskA) {
		t.Fatalf("switch = %+v, want resync naming disk A (lost %s)", sw, lost.Path)
	}
	// The resync starts a fresh chain; once acknowledged, switches work.
	f.logs[keyA] = f.logs[keyA][len(f.logs[keyA])-1:]
	f.logs[keyA][0].Prev = ""
	if err := b.AcknowledgeResync(ctx, "vm1"); err != nil {
		t.Fatal(err)
	}
	sw, err = b.SwitchLogs(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if sw.ResyncNeeded {
		t.Fatalf("still resync after acknowledge: %s", sw.Reason)
	}
	if len(sw.Logs[diskA]) != 1 || len(sw.Logs[diskB]) == 0 {
		t.Errorf("logs after acknowledge = %v", sw.Logs)
	}
}

func TestBackend_SwitchLogs_resyncMarkPersists(t *testing.T) {
	f, b := trackedVM(t)
	ctx := context.Background()
	b.needResync("vm1", "tracker crashed")
	sw, err := b.SwitchLogs(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	if !sw.ResyncNeeded || sw.Reason != "tracker crashed" {
		t.Fatalf("switch = %+v, want the earlier resync reason", sw)
	}
	if len(sw.Logs) != 2 || f.count("switchLog") != 1 {
		t.Errorf("logs = %v, switchLog calls = %d", sw.Logs, f.count("switchLog"))
	}
}

func TestOrderChain_cases(t *testing.T) {
	l := func(id, prev string) logFile { return logFile{Path: id + ".hrl", ID: id, Prev: prev, Closed: true} }
	open := func(id, prev string) logFile { return logFile{Path: id + ".hrl", ID: id, Prev: prev} }
	tests := []struct {
		name    string
		logs    []logFile
		tail    string
		want    []string
		wantErr bool
	}{
		{"empty", nil, "", nil, false},
		{"only open", []logFile{open("a", "")}, "", nil, false},
		{"shuffled", []logFile{l("c", "b"), l("a", ""), open("d", "c"), l("b", "a")}, "", []string{"a", "b", "c"}, false},
		{"after tail present", []logFile{l("a", ""), l("b", "a"), l("c", "b")}, "a", []string{"b", "c"}, false},
		{"tail gone, follows it", []logFile{l("b", "a"), l("c", "b")}, "a", []string{"b", "c"}, false},
		{"tail gone, gap", []logFile{l("c", "b")}, "a", nil, true},
		{"fork", []logFile{l("a", ""), l("b", "a"), l("c", "a")}, "", nil, true},
		{"two starts", []logFile{l("a", ""), l("c", "b")}, "", nil, true},
		{"cycle", []logFile{l("a", "b"), l("b", "a")}, "", nil, true},
		{"start plus cycle", []logFile{l("a", ""), l("b", "c"), l("c", "b")}, "", nil, true},
		{"duplicate id", []logFile{l("a", ""), l("a", "x")}, "", nil, true},
		{"open log off chain", []logFile{l("a", ""), open("z", "y")}, "", nil, true},
		{"two open logs", []logFile{open("a", ""), open("b", "")}, "", nil, true},
		{"busy open log is fine", []logFile{l("a", ""), {Path: "x.hrl", Busy: true}}, "", []string{"a"}, false},
		{"unreadable", []logFile{l("a", ""), {Path: "x.hrl", Err: errors.New("bad")}}, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orderChain(tt.logs, tt.tail)
			if tt.wantErr {
				if !errors.Is(err, errBrokenChain) {
					t.Fatalf("err = %v, want errBrokenChain", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, g := range got {
				ids = append(ids, g.ID)
			}
			if !reflect.DeepEqual(ids, tt.want) {
				t.Errorf("chain = %v, want %v", ids, tt.want)
			}
		})
	}
}
