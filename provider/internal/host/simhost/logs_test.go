package simhost_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"hvmigrate/integration/simhost"
	"hvmigrate/provider/internal/host"
)

// TestBackend_switchLookupAndRelease: the checkpoint reports the host's
// switch count; a switch can be looked up by number after the fact; its
// closed logs can be released once, and an open log cannot.
func TestBackend_switchLookupAndRelease(t *testing.T) {
	d, b := setup(t)
	ctx := context.Background()
	created, err := d.Client.CreateVM(ctx, simhost.VMSpec{Name: "logs", Disks: []simhost.DiskSpec{{Size: 8 << 20}, {Size: 8 << 20}}})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := b.CreateCheckpoint(ctx, created.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Numbered || cp.LastSwitch != 0 {
		t.Fatalf("checkpoint numbered %v last switch %d, want true and 0", cp.Numbered, cp.LastSwitch)
	}
	sw, err := b.SwitchLogs(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.GetSwitch(ctx, created.ID, sw.Number)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sw) {
		t.Fatalf("looked up %+v, switch returned %+v", got, sw)
	}
	if _, err := b.GetSwitch(ctx, created.ID, sw.Number+1); !errors.Is(err, host.ErrNotFound) {
		t.Fatalf("switch not made: %v, want ErrNotFound", err)
	}

	var closed []string
	for _, logs := range sw.Logs {
		closed = append(closed, logs...)
	}
	vm, err := d.Client.GetVM(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	open := vm.Disks[0].CurrentLog
	if err := b.ReleaseLogs(ctx, created.ID, append(closed, open)); !errors.Is(err, host.ErrUnsupported) {
		t.Fatalf("release with an open log: %v, want ErrUnsupported", err)
	}
	for _, p := range append(closed, open) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("a refused release removed %s: %v", p, err)
		}
	}
	for range 2 {
		if err := b.ReleaseLogs(ctx, created.ID, closed); err != nil {
			t.Fatalf("release: %v", err)
		}
	}
	for _, p := range closed {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("released log %s: %v", p, err)
		}
	}

	// A later checkpoint reports the switches made so far.
	if err := b.DeleteCheckpoint(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.StopTracking(ctx, created.ID, true); err != nil {
		t.Fatal(err)
	}
	if cp, err = b.CreateCheckpoint(ctx, created.ID, true); err != nil || cp.LastSwitch != sw.Number {
		t.Fatalf("second checkpoint: last switch %d, %v; want %d", cp.LastSwitch, err, sw.Number)
	}
}
