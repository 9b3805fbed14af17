package hyperv

import (
	"context"
	"errors"
	"slices"
	"testing"

	"hvmigrate/provider/internal/host"
)

func TestBackend_ReleaseLogs_closedLogsOnly(t *testing.T) {
	f, b := trackedVM(t)
	ctx := context.Background()
	sw, err := b.SwitchLogs(ctx, "vm1")
	if err != nil {
		t.Fatal(err)
	}
	closed := append(slices.Clone(sw.Logs[diskA]), sw.Logs[diskB]...)
	var open string
	for _, l := range f.logs[fakeLogKey(`C:\vms\a.vhdx`)] {
		if !l.Closed {
			open = l.Path
		}
	}
	if len(closed) != 2 || open == "" {
		t.Fatalf("closed %v open %q", closed, open)
	}

	if err := b.ReleaseLogs(ctx, "vm1", append(slices.Clone(closed), open)); !errors.Is(err, host.ErrUnsupported) {
		t.Fatalf("release with the open log: %v, want ErrUnsupported", err)
	}
	if len(f.removed) != 0 {
		t.Fatalf("a refused release removed %v", f.removed)
	}
	stranger := `C:\Windows\system32\config\SAM`
	if err := b.ReleaseLogs(ctx, "vm1", append(slices.Clone(closed), stranger)); err != nil {
		t.Fatalf("release: %v", err)
	}
	if !slices.Equal(f.removed, closed) {
		t.Fatalf("removed %v, want %v (never %s)", f.removed, closed, stranger)
	}
	if err := b.ReleaseLogs(ctx, "vm1", closed); err != nil || len(f.removed) != 2 {
		t.Fatalf("repeat: %v, removed %v", err, f.removed)
	}
	// The chain still checks out after its released head is gone.
	sw, err = b.SwitchLogs(ctx, "vm1")
	if err != nil || sw.ResyncNeeded || len(sw.Logs[diskA]) != 1 {
		t.Fatalf("switch after release: %+v, %v", sw, err)
	}
}

func TestBackend_GetSwitch_notNumbered(t *testing.T) {
	_, b := trackedVM(t)
	if _, err := b.GetSwitch(context.Background(), "vm1", 1); !errors.Is(err, host.ErrNotFound) {
		t.Fatalf("GetSwitch: %v, want ErrNotFound", err)
	}
}
