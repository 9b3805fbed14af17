package hyperv

import (
	"context"
	"strings"
	"testing"

	"hvmigrate/provider/internal/host"
)

var jobFails = outcome{code: codeJobStarted, job: []jobRecord{{State: jobRunning}, {State: jobException, ErrorCode: uint16(codeVendorFailed), Description: "disk busy"}}}

func TestBackend_CreateCheckpoint_conditions(t *testing.T) {
	tests := []struct {
		name        string
		tracking    bool
		setup       func(f *fakeHost)
		cfg         func(*Config)
		wantErr     error
		wantSnaps   int
		wantTrackOn bool
	}{
		{name: "happy without tracking", wantSnaps: 1},
		{name: "happy with tracking", tracking: true, wantSnaps: 1, wantTrackOn: true},
		{name: "tracking already on is kept", tracking: true, wantSnaps: 1, wantTrackOn: true,
			setup: func(f *fakeHost) { f.vms["vm1"].Replication = replicationRecord{Mode: 1, State: replReplicating} }},
		{name: "snapshot job fails", wantErr: errAnyCode,
			setup: func(f *fakeHost) { f.on("createSnapshot", jobFails) }},
		{name: "snapshot job fails rolls tracking back", tracking: true, wantErr: errAnyCode,
			setup: func(f *fakeHost) { f.on("createSnapshot", jobFails) }},
		{name: "naming fails removes the snapshot", wantErr: errAnyCode,
			setup: func(f *fakeHost) { f.on("renameSnapshot", outcome{code: codeAccessDenied}) }},
		{name: "vm not found", wantErr: host.ErrNotFound,
			setup: func(f *fakeHost) { delete(f.vms, "vm1") }},
		{name: "foreign checkpoint", wantErr: host.ErrCheckpointExists, wantSnaps: 1,
			setup: func(f *fakeHost) {
				f.vms["vm1"].Snapshots = []snapshotRecord{{Path: "p", InstanceID: "user", Name: "before patch", Type: "Microsoft:Hyper-V:Snapshot:Realized"}}
			}},
		{name: "foreign recovery checkpoint", wantErr: host.ErrCheckpointExists, wantSnaps: 1,
			setup: func(f *fakeHost) {
				f.vms["vm1"].Snapshots = []snapshotRecord{{Path: "p", InstanceID: "backup", Name: "backup job", Type: vsTypeRecovery}}
			}},
		{name: "pass-through disk", wantErr: host.ErrUnsupported,
			setup: func(f *fakeHost) {
				f.vms["vm1"].Disks = append(f.vms["vm1"].Disks, diskRecord{Path: `\\.\PHYSICALDRIVE2`, SubType: "Microsoft:Hyper-V:Physical Disk Drive"})
			}},
		{name: "tracking without a provider", tracking: true, wantErr: host.ErrUnsupported,
			cfg: func(c *Config) { c.ReplicationProvider = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`, `C:\vms\b.vhdx`)
			if tt.setup != nil {
				tt.setup(f)
			}
			var mut []func(*Config)
			if tt.cfg != nil {
				mut = append(mut, tt.cfg)
			}
			b := newTestBackend(t, f, mut...)
			cp, err := b.CreateCheckpoint(context.Background(), "vm1", tt.tracking)
			checkErr(t, err, tt.wantErr)
			if vm := f.vms["vm1"]; vm != nil {
				if len(vm.Snapshots) != tt.wantSnaps {
					t.Errorf("snapshots = %d, want %d", len(vm.Snapshots), tt.wantSnaps)
				}
				if on := trackingOn(vm.Replication); on != tt.wantTrackOn {
					t.Errorf("tracking on = %v, want %v", on, tt.wantTrackOn)
				}
			}
			if tt.wantErr != nil {
				return
			}
			want := map[string]string{
				"aaaaaaaa-0000-0000-0000-000000000001": `C:\vms\a.vhdx`,
				"aaaaaaaa-0000-0000-0000-000000000002": `C:\vms\b.vhdx`,
			}
			if len(cp.Frozen) != len(want) {
				t.Fatalf("frozen = %v, want %v", cp.Frozen, want)
			}
			for id, p := range want {
				if cp.Frozen[id] != p {
					t.Errorf("frozen[%s] = %q, want %q", id, cp.Frozen[id], p)
				}
			}
			if s := f.vms["vm1"].Snapshots[0]; s.Name != b.cfg.CheckpointName || s.Type != vsTypeRecovery {
				t.Errorf("snapshot = %+v, want a recovery snapshot named %q", s, b.cfg.CheckpointName)
			}
		})
	}
}

func TestBackend_CreateCheckpoint_trackingStartsBeforeSnapshot(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`)
	b := newTestBackend(t, f)
	if _, err := b.CreateCheckpoint(context.Background(), "vm1", true); err != nil {
		t.Fatal(err)
	}
	want := []string{"createRelationship", "startReplication", "createSnapshot", "renameSnapshot"}
	var got []string
	for _, m := range f.order {
		if m != "queryVMs" {
			got = append(got, m)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if logs := f.logs[fakeLogKey(`C:\vms\a.vhdx`)]; len(logs) != 1 || logs[0].Closed {
		t.Errorf("logs = %+v, want one open log", logs)
	}
}

func TestBackend_DeleteCheckpoint_conditions(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fakeHost)
		create    bool
		wantErr   error
		wantSnaps int
	}{
		{name: "merges ours", create: true},
		{name: "no checkpoint", wantErr: host.ErrNoCheckpoint},
		{name: "only a foreign checkpoint", wantErr: host.ErrNoCheckpoint, wantSnaps: 1,
			setup: func(f *fakeHost) {
				f.vms["vm1"].Snapshots = []snapshotRecord{{Path: "p", InstanceID: "user", Name: "mine", Type: "Microsoft:Hyper-V:Snapshot:Realized"}}
			}},
		{name: "merge job fails", create: true, wantErr: errAnyCode, wantSnaps: 1,
			setup: func(f *fakeHost) { f.on("destroySnapshot", jobFails) }},
		{name: "vm not found", wantErr: host.ErrNotFound,
			setup: func(f *fakeHost) { f.vms = map[string]*vmRecord{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			b := newTestBackend(t, f)
			ctx := context.Background()
			if tt.create {
				if _, err := b.CreateCheckpoint(ctx, "vm1", false); err != nil {
					t.Fatal(err)
				}
			}
			if tt.setup != nil {
				tt.setup(f)
			}
			checkErr(t, b.DeleteCheckpoint(ctx, "vm1"), tt.wantErr)
			if vm := f.vms["vm1"]; vm != nil && len(vm.Snapshots) != tt.wantSnaps {
				t.Errorf("snapshots = %d, want %d", len(vm.Snapshots), tt.wantSnaps)
			}
			if vm := f.vms["vm1"]; vm != nil && tt.wantErr == nil && vm.Disks[0].Path != `C:\vms\a.vhdx` {
				t.Errorf("disk path after merge = %s", vm.Disks[0].Path)
			}
		})
	}
}
