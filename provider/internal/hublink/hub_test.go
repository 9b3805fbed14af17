package hublink

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
)

func TestHub_ReportCycle_delta(t *testing.T) {
	s := &sender{}
	h := NewHub(testConfig(), Deps{Send: s})
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := replication.Manifest{VMID: testVM, Kind: replication.ManifestDelta, Cycle: 4, Previous: 3, SwitchedAt: at,
		Disks: []replication.ManifestDisk{{DiskID: testDisk, Object: "vm/aa/disk/bb/cycle/4.delta", Bytes: 4096}}}
	for range 2 {
		if err := h.ReportCycle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	evs := s.all()
	if len(evs) != 2 || evs[0].ID != evs[1].ID || evs[0].ID == "" {
		t.Fatalf("a repeated manifest must keep its event id: %+v", evs)
	}
	got := evs[0].CycleManifest
	want := hubclient.ManifestDisk{DiskID: testDisk, ObjectName: "vm/aa/disk/bb/cycle/4.delta", SizeBytes: 4096}
	if got == nil || got.VMID != testVM || got.Cycle != 4 || !got.SwitchedAt.Equal(at) || len(got.Disks) != 1 || got.Disks[0] != want {
		t.Fatalf("manifest event = %+v", got)
	}
}

func TestHub_ReportCycle_baseUploadsMarker(t *testing.T) {
	tests := []struct {
		name    string
		job     agentclient.JobState
		grants  bool
		wantErr bool
	}{
		{"succeeds", agentclient.JobSucceeded, true, false},
		{"upload_fails", agentclient.JobFailed, true, true},
		{"no_grant", agentclient.JobSucceeded, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, mk := &sender{}, &marker{state: tt.job}
			host := vms{list: []host.VM{{ID: testVM, Disks: []host.Disk{{ID: testDisk, VirtualSize: 8 << 20}}}}}
			h := NewHub(testConfig(), Deps{Send: s, Agent: mk, Host: host, Log: testLogger(t)})
			if tt.grants {
				h.SetGrants(testVM, []hubclient.SASGrant{replicaGrant(testDisk), cycleGrant(testDisk, 1)})
			}
			m := replication.Manifest{VMID: testVM, Kind: replication.ManifestBase, Cycle: 1, Previous: 0,
				Disks: []replication.ManifestDisk{{DiskID: testDisk, Object: "vm/aa/disk/bb.vhd", Bytes: 8 << 20}}}
			err := h.ReportCycle(context.Background(), m)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "secretsig") {
					t.Fatalf("error carries the signature: %v", err)
				}
				for _, e := range s.all() {
					if e.CycleManifest != nil {
						t.Fatalf("manifest sent although the marker failed: %+v", e.CycleManifest)
					}
				}
				return
			}
			checkMarker(t, mk, s.all())
		})
	}
}

// checkMarker checks the marker job and the events of a base: progress
// complete, then cycle 1 naming the marker object.
func checkMarker(t *testing.T, mk *marker, evs []hubclient.Event) {
	t.Helper()
	if len(mk.specs) != 1 {
		t.Fatalf("%d marker uploads, want 1", len(mk.specs))
	}
	sp := mk.specs[0]
	if sp.Cycle != 1 || sp.Previous != 0 || len(sp.Disks) != 1 || len(sp.Disks[0].Logs) != 0 ||
		sp.Disks[0].VirtualSize != 8<<20 || !strings.HasSuffix(strings.Split(sp.Disks[0].Target.Reveal(), "?")[0], "/cycle/1.delta") {
		t.Fatalf("marker spec = %+v", sp)
	}
	if len(evs) != 2 || evs[0].Progress == nil || evs[1].CycleManifest == nil {
		t.Fatalf("events = %+v", evs)
	}
	if p := evs[0].Progress; p.DoneBytes != 8<<20 || p.TotalBytes != 8<<20 || p.DiskID != testDisk {
		t.Fatalf("progress = %+v", p)
	}
	if cm := evs[1].CycleManifest; cm.Cycle != 1 || cm.Disks[0].ObjectName != "vm/aa/disk/bb/cycle/1.delta" {
		t.Fatalf("manifest = %+v", cm)
	}
}

func TestHub_ReportProgress_perDisk(t *testing.T) {
	s := &sender{}
	h := NewHub(testConfig(), Deps{Send: s})
	p := driver.Progress{VMID: testVM, Phase: replication.PhaseInitialReplication,
		Disks: []driver.DiskProgress{{DiskID: "d1", Done: 10, Total: 20}, {DiskID: "d2", Done: 0, Total: 5}}}
	if err := h.ReportProgress(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	evs := s.all()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	want := hubclient.Progress{VMID: testVM, DiskID: "d1", Phase: "initial_replication", DoneBytes: 10, TotalBytes: 20}
	if *evs[0].Progress != want || evs[1].Progress.DiskID != "d2" {
		t.Fatalf("progress = %+v %+v", *evs[0].Progress, *evs[1].Progress)
	}
}

func TestHub_ReportHealth_levels(t *testing.T) {
	tests := []struct {
		level string
		check func(t *testing.T, evs []hubclient.Event)
	}{
		{"error", func(t *testing.T, evs []hubclient.Event) {
			if len(evs) != 1 || evs[0].ErrorReport == nil || evs[0].ErrorReport.VMID != testVM || evs[0].ErrorReport.Message != "boom" {
				t.Fatalf("events = %+v", evs)
			}
		}},
		{"warn", func(t *testing.T, evs []hubclient.Event) {
			if len(evs) != 1 || evs[0].Health == nil || evs[0].Health.Status != "degraded" || !strings.Contains(evs[0].Health.Message, testVM) {
				t.Fatalf("events = %+v", evs)
			}
		}},
		{"info", func(t *testing.T, evs []hubclient.Event) {
			if len(evs) != 0 {
				t.Fatalf("a notice went to the hub: %+v", evs)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			s := &sender{}
			h := NewHub(testConfig(), Deps{Send: s, Log: testLogger(t)})
			if err := h.ReportHealth(context.Background(), driver.Health{VMID: testVM, Level: tt.level, Message: "boom"}); err != nil {
				t.Fatal(err)
			}
			tt.check(t, s.all())
		})
	}
}

func TestHub_queue_outboxFull(t *testing.T) {
	h := NewHub(testConfig(), Deps{Send: &sender{err: hubclient.ErrOutboxFull}})
	err := h.ReportProgress(context.Background(), driver.Progress{VMID: testVM, Disks: []driver.DiskProgress{{DiskID: "d"}}})
	if !errors.Is(err, hubclient.ErrOutboxFull) {
		t.Fatalf("err = %v", err)
	}
}

func TestReportInventory_sendsAtStartAndPeriodically(t *testing.T) {
	s := &sender{}
	h := NewHub(testConfig(), Deps{Send: s})
	list := vms{list: []host.VM{{ID: testVM, Name: "web01", Power: host.PowerRunning, Generation: 2, CPUs: 4, MemoryBytes: 8 << 30,
		NICs:  []host.NIC{{Name: "lan", MACAddress: "00:15:5D:00:00:01", SwitchName: "External"}, {Name: "spare"}},
		Disks: []host.Disk{{ID: testDisk, Path: `C:\VMs\web01\disk0.vhdx`, VirtualSize: 1 << 30}}}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ReportInventory(ctx, list, h, 20*time.Millisecond, testLogger(t)) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(s.all()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	evs := s.all()
	if len(evs) < 2 {
		t.Fatalf("%d inventory events, want at least 2", len(evs))
	}
	want := hubclient.VM{ID: testVM, Name: "web01", PowerState: "running", Generation: 2, VCPUs: 4, MemoryBytes: 8 << 30,
		NICs:  []hubclient.NIC{{Name: "lan", SwitchName: "External", MACAddress: "00:15:5D:00:00:01"}, {Name: "spare"}},
		Disks: []hubclient.Disk{{ID: testDisk, Name: "disk0.vhdx", SizeBytes: 1 << 30}}}
	got := evs[0].Inventory
	if got == nil || len(got.VMs) != 1 || !reflect.DeepEqual(got.VMs[0], want) {
		t.Fatalf("inventory = %+v, want %+v", got, want)
	}
}
