package hyperv

import (
	"context"
	"testing"

	"hvmigrate/provider/internal/host"
)

func TestBackend_StartTracking_conditions(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(f *fakeHost)
		cfg         func(*Config)
		wantErr     error
		wantCreates int
		wantOn      bool
	}{
		{name: "happy", wantCreates: 1, wantOn: true},
		{name: "already on", wantOn: true,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication = replicationRecord{Mode: 1, State: replReplicating} }},
		{name: "relationship exists but not started", wantOn: true,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication = replicationRecord{Mode: 1, State: replDisabled} }},
		{name: "vm is a replica", wantErr: host.ErrUnsupported,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication = replicationRecord{Mode: 2} }},
		{name: "no provider", wantErr: host.ErrUnsupported, cfg: func(c *Config) { c.ReplicationProvider = "" }},
		{name: "job failure", wantErr: errAnyCode, wantCreates: 1,
			setup: func(f *fakeHost) { f.on("startReplication", jobFails) }},
		{name: "vm not found", wantErr: host.ErrNotFound, setup: func(f *fakeHost) { delete(f.vms, "vm1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			if tt.setup != nil {
				tt.setup(f)
			}
			var mut []func(*Config)
			if tt.cfg != nil {
				mut = append(mut, tt.cfg)
			}
			err := newTestBackend(t, f, mut...).StartTracking(context.Background(), "vm1")
			checkErr(t, err, tt.wantErr)
			if got := f.count("createRelationship"); got != tt.wantCreates {
				t.Errorf("createRelationship calls = %d, want %d", got, tt.wantCreates)
			}
			if vm := f.vms["vm1"]; vm != nil && tt.wantErr != nil && tt.wantCreates > 0 && vm.Replication.Mode != 0 {
				t.Errorf("relationship left behind after failure: %+v", vm.Replication)
			}
			if vm := f.vms["vm1"]; vm != nil && trackingOn(vm.Replication) != tt.wantOn {
				t.Errorf("tracking on = %v, want %v", !tt.wantOn, tt.wantOn)
			}
		})
	}
}

func TestBackend_StopTracking_logs(t *testing.T) {
	tests := []struct {
		name       string
		removeLogs bool
		wantLeft   int
	}{
		{"keeps logs", false, 2},
		{"removes logs", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			b := newTestBackend(t, f)
			ctx := context.Background()
			if err := b.StartTracking(ctx, "vm1"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.SwitchLogs(ctx, "vm1"); err != nil {
				t.Fatal(err)
			}
			if err := b.StopTracking(ctx, "vm1", tt.removeLogs); err != nil {
				t.Fatal(err)
			}
			if trackingOn(f.vms["vm1"].Replication) {
				t.Error("tracking still on")
			}
			if got := len(f.logs[fakeLogKey(`C:\vms\a.vhdx`)]); got != tt.wantLeft {
				t.Errorf("logs left = %d, want %d", got, tt.wantLeft)
			}
			if f.count("removeRelationship") != 1 {
				t.Errorf("removeRelationship calls = %d", f.count("removeRelationship"))
			}
		})
	}
}

func TestBackend_StopTracking_alreadyOff(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`)
	if err := newTestBackend(t, f).StopTracking(context.Background(), "vm1", false); err != nil {
		t.Fatal(err)
	}
	if f.count("removeRelationship") != 0 {
		t.Error("removed a relationship that did not exist")
	}
}

func TestBackend_AcknowledgeResync_conditions(t *testing.T) {
	tests := []struct {
		name        string
		repl        replicationRecord
		wantErr     error
		wantResyncs int
	}{
		{"tracking off", replicationRecord{}, host.ErrTrackingOff, 0},
		{"host is fine", replicationRecord{Mode: 1, State: replReplicating}, nil, 0},
		{"host waits for resync", replicationRecord{Mode: 1, State: replWaitingResync}, nil, 1},
		{"host critical", replicationRecord{Mode: 1, State: replCritical, Health: replHealthCritical}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			f.vms["vm1"].Replication = tt.repl
			err := newTestBackend(t, f).AcknowledgeResync(context.Background(), "vm1")
			checkErr(t, err, tt.wantErr)
			if got := f.count("resynchronize"); got != tt.wantResyncs {
				t.Errorf("resynchronize calls = %d, want %d", got, tt.wantResyncs)
			}
		})
	}
}
