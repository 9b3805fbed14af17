package hyperv

import (
	"context"
	"testing"

	"hvmigrate/provider/internal/host"
)

func TestBackend_Shutdown_conditions(t *testing.T) {
	tests := []struct {
		name          string
		force         bool
		setup         func(f *fakeHost)
		wantErr       error
		wantShutdowns int
		wantTurnOffs  int
		wantOff       bool
	}{
		{name: "graceful", wantShutdowns: 1, wantOff: true,
			setup: func(f *fakeHost) { f.offAfter = 2 }},
		{name: "already off", wantOff: true,
			setup: func(f *fakeHost) { f.vms["vm1"].EnabledState = stateDisabled }},
		{name: "timeout without force leaves it running", wantErr: ErrShutdownTimeout, wantShutdowns: 1,
			setup: func(f *fakeHost) { f.offAfter = -1 }},
		{name: "timeout with force turns off", force: true, wantShutdowns: 1, wantTurnOffs: 1, wantOff: true,
			setup: func(f *fakeHost) { f.offAfter = -1 }},
		{name: "force but guest obeys", force: true, wantShutdowns: 1, wantOff: true,
			setup: func(f *fakeHost) { f.offAfter = 1 }},
		{name: "no shutdown service", wantErr: host.ErrUnsupported, wantShutdowns: 1,
			setup: func(f *fakeHost) { f.on("initiateShutdown", outcome{err: errNoShutdownComponent}) }},
		{name: "no shutdown service with force", force: true, wantShutdowns: 1, wantTurnOffs: 1, wantOff: true,
			setup: func(f *fakeHost) { f.on("initiateShutdown", outcome{err: errNoShutdownComponent}) }},
		{name: "shutdown job fails", wantErr: errAnyCode, wantShutdowns: 1,
			setup: func(f *fakeHost) { f.on("initiateShutdown", jobFails) }},
		{name: "turn off fails", force: true, wantErr: errAnyCode, wantShutdowns: 1, wantTurnOffs: 1,
			setup: func(f *fakeHost) { f.offAfter = -1; f.on("requestStateChange", jobFails) }},
		{name: "vm not found", wantErr: host.ErrNotFound,
			setup: func(f *fakeHost) { delete(f.vms, "vm1") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHost()
			f.addVM("vm1", `C:\vms\a.vhdx`)
			if tt.setup != nil {
				tt.setup(f)
			}
			err := newTestBackend(t, f).Shutdown(context.Background(), "vm1", tt.force)
			checkErr(t, err, tt.wantErr)
			if got := f.count("initiateShutdown"); got != tt.wantShutdowns {
				t.Errorf("initiateShutdown calls = %d, want %d", got, tt.wantShutdowns)
			}
			if got := f.count("requestStateChange"); got != tt.wantTurnOffs {
				t.Errorf("requestStateChange calls = %d, want %d", got, tt.wantTurnOffs)
			}
			if vm := f.vms["vm1"]; vm != nil && (vm.EnabledState == stateDisabled) != tt.wantOff {
				t.Errorf("state = %d, want off %v", vm.EnabledState, tt.wantOff)
			}
		})
	}
}

func TestBackend_Shutdown_forceWithoutGrace(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`)
	b := newTestBackend(t, f, func(c *Config) { c.ForceGrace = 0 })
	if err := b.Shutdown(context.Background(), "vm1", true); err != nil {
		t.Fatal(err)
	}
	if f.count("initiateShutdown") != 0 || f.count("requestStateChange") != 1 {
		t.Errorf("initiateShutdown %d, requestStateChange %d; want 0, 1",
			f.count("initiateShutdown"), f.count("requestStateChange"))
	}
}

func TestBackend_Shutdown_cancelled(t *testing.T) {
	f := newFakeHost()
	f.addVM("vm1", `C:\vms\a.vhdx`)
	f.offAfter = -1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := newTestBackend(t, f).Shutdown(ctx, "vm1", true)
	if err == nil {
		t.Fatal("shutdown with a cancelled context succeeded")
	}
	if f.count("requestStateChange") != 0 {
		t.Error("turned the vm off after the caller gave up")
	}
}
