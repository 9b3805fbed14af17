package hublink

import (
	"context"
	"errors"
	"testing"
	"time"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/provider/internal/replication/preflight"
	"hvmigrate/shared/units"
)

func newHandler(t *testing.T, d *fakeDriver, cfg Config) (*Handler, *Hub, *sender) {
	s := &sender{}
	h := NewHub(cfg, Deps{Send: s, Log: testLogger(t)})
	return NewHandler(h, d, testLogger(t)), h, s
}

func enableCmd() hubclient.Command {
	return hubclient.Command{ID: "enable-1", EnableReplication: &hubclient.EnableReplication{VMID: testVM,
		Interval: 5 * time.Minute, Threads: 8, DiskIDs: []string{testDisk}, SAS: []hubclient.SASGrant{replicaGrant(testDisk)}}}
}

func TestHandler_Enable_storesGrantsAndEnables(t *testing.T) {
	d := &fakeDriver{notRunning: 3}
	hd, h, _ := newHandler(t, d, testConfig())
	if err := hd.HandleCommand(context.Background(), enableCmd()); err != nil {
		t.Fatal(err)
	}
	if len(d.enabled) != 1 || d.enabled[0] != (replication.Policy{Interval: 5 * time.Minute, Threads: 8}) {
		t.Fatalf("enabled = %+v", d.enabled)
	}
	if _, err := h.RequestSAS(context.Background(), driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobReplica}); err != nil {
		t.Fatalf("grant of the enable command: %v", err)
	}
}

func TestHandler_Enable_intervalCap(t *testing.T) {
	d := &fakeDriver{}
	cfg := testConfig()
	cfg.IntervalCap = 2 * time.Second
	hd, _, _ := newHandler(t, d, cfg)
	if err := hd.HandleCommand(context.Background(), enableCmd()); err != nil {
		t.Fatal(err)
	}
	if len(d.enabled) != 1 || d.enabled[0].Interval != 2*time.Second {
		t.Fatalf("enabled = %+v", d.enabled)
	}
}

func TestHandler_Enable_alreadyReplicatedOnlyRenewsGrants(t *testing.T) {
	d := &fakeDriver{states: map[string]replication.State{testVM: {VMID: testVM, Phase: replication.PhaseDeltaReplication}}}
	hd, _, s := newHandler(t, d, testConfig())
	if err := hd.HandleCommand(context.Background(), enableCmd()); err != nil {
		t.Fatal(err)
	}
	if len(d.enabled) != 0 || len(s.all()) != 0 {
		t.Fatalf("enabled again: %+v, events %+v", d.enabled, s.all())
	}
}

func TestHandler_Enable_refusals(t *testing.T) {
	refuse := preflight.Report{Findings: []preflight.Finding{{Level: preflight.Refuse, Message: "vm has no disks"}}}
	tests := []struct {
		name       string
		report     preflight.Report
		err        error
		wantErr    bool
		wantReport bool
	}{
		{"preflight", refuse, errors.New("enable: refused"), false, true},
		{"transition", preflight.Report{}, replication.ErrInvalidTransition, false, true},
		{"ignored", preflight.Report{}, replication.ErrIgnored, false, false},
		{"transient", preflight.Report{}, errors.New("host unavailable"), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{report: tt.report, enableErr: tt.err}
			hd, _, s := newHandler(t, d, testConfig())
			err := hd.HandleCommand(context.Background(), enableCmd())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			evs := s.all()
			if got := len(evs) == 1 && evs[0].ErrorReport != nil && evs[0].ErrorReport.VMID == testVM; got != tt.wantReport {
				t.Fatalf("error report sent = %v, want %v (%+v)", got, tt.wantReport, evs)
			}
		})
	}
}

func TestHandler_commandsReachTheDriver(t *testing.T) {
	tests := []struct {
		name string
		cmd  hubclient.Command
		want replication.Event
	}{
		{"disable", hubclient.Command{DisableReplication: &hubclient.VMCommand{VMID: testVM}}, replication.Disable{}},
		{"resync", hubclient.Command{Resync: &hubclient.VMCommand{VMID: testVM}}, replication.Resync{}},
		{"test_migrate", hubclient.Command{TestMigrate: &hubclient.TestMigrate{VMID: testVM, RecoveryPointID: "3"}}, replication.TestMigrate{}},
		{"migrate", hubclient.Command{Migrate: &hubclient.Migrate{VMID: testVM, ShutdownSource: true}}, replication.Migrate{Shutdown: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &fakeDriver{}
			hd, _, _ := newHandler(t, d, testConfig())
			if err := hd.HandleCommand(context.Background(), tt.cmd); err != nil {
				t.Fatal(err)
			}
			if len(d.submitted) != 1 || d.submitted[0] != tt.want {
				t.Fatalf("submitted = %+v, want %+v", d.submitted, tt.want)
			}
		})
	}
}

func TestHandler_Disable_forgetsGrantsEvenWhenNotReplicated(t *testing.T) {
	d := &fakeDriver{submitErr: replication.ErrInvalidTransition}
	hd, h, _ := newHandler(t, d, testConfig())
	h.SetGrants(testVM, []hubclient.SASGrant{replicaGrant(testDisk)})
	if err := hd.HandleCommand(context.Background(), hubclient.Command{DisableReplication: &hubclient.VMCommand{VMID: testVM}}); err != nil {
		t.Fatal(err)
	}
	_, err := h.RequestSAS(context.Background(), driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobReplica})
	if !errors.Is(err, ErrNoGrant) {
		t.Fatalf("grant after disable: %v", err)
	}
}

func TestHandler_Submit_refusedIsReportedAndAcknowledged(t *testing.T) {
	d := &fakeDriver{submitErr: replication.ErrInvalidTransition}
	hd, _, s := newHandler(t, d, testConfig())
	if err := hd.HandleCommand(context.Background(), hubclient.Command{Migrate: &hubclient.Migrate{VMID: testVM}}); err != nil {
		t.Fatal(err)
	}
	if evs := s.all(); len(evs) != 1 || evs[0].ErrorReport == nil {
		t.Fatalf("events = %+v", evs)
	}
	d.submitErr = errors.New("store full")
	if err := hd.HandleCommand(context.Background(), hubclient.Command{Resync: &hubclient.VMCommand{VMID: testVM}}); err == nil {
		t.Fatal("a transient failure was acknowledged")
	}
}

func TestHandler_RefreshSAS_replacesGrants(t *testing.T) {
	hd, h, _ := newHandler(t, &fakeDriver{}, testConfig())
	cmd := hubclient.Command{RefreshSAS: &hubclient.RefreshSAS{VMID: testVM, Grants: []hubclient.SASGrant{cycleGrant(testDisk, 9)}}}
	if err := hd.HandleCommand(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	if _, err := h.RequestSAS(context.Background(), driver.SASRequest{VMID: testVM, DiskID: testDisk, Kind: driver.BlobDelta, Cycle: 9}); err != nil {
		t.Fatal(err)
	}
}

func TestHandler_SetThrottle_mapsLimits(t *testing.T) {
	d := &fakeDriver{}
	hd, _, _ := newHandler(t, d, testConfig())
	cmd := hubclient.Command{SetThrottle: &hubclient.Throttle{WorkHoursBps: 1_000_000, OffHoursBps: 0, WorkStart: "07:30", WorkEnd: "18:00"}}
	if err := hd.HandleCommand(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	want := agentclient.Throttle{WorkHours: units.Mbps, NonWorkHours: units.Unlimited, WorkStart: "07:30", WorkEnd: "18:00"}
	if len(d.throttles) != 1 || d.throttles[0].WorkHours != want.WorkHours || d.throttles[0].NonWorkHours != want.NonWorkHours ||
		d.throttles[0].WorkStart != want.WorkStart || d.throttles[0].WorkEnd != want.WorkEnd {
		t.Fatalf("throttles = %+v", d.throttles)
	}
}
