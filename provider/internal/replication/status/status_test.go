package status

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/store"
)

func TestRender_showsEachVM(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	states := []replication.State{
		{VMID: "vm-copy", Phase: replication.PhaseInitialReplication, CopyStage: replication.StageCopying, Disks: []replication.Disk{
			{ID: "d0", Size: 100, BytesDone: 100, BytesTotal: 100, Copy: replication.DiskCopied},
			{ID: "d1", Size: 300, BytesDone: 100, BytesTotal: 300, Copy: replication.DiskCopying}}},
		{VMID: "vm-delta", Phase: replication.PhaseDeltaReplication, LastCycle: 41, LastSwitchAt: now.Add(-90 * time.Second),
			LastRPO: 5 * time.Minute, MaxRPO: 7 * time.Minute, Overruns: 2,
			InFlight: &replication.Cycle{Number: 42, Stage: replication.CycleUploading},
			Disks:    []replication.Disk{{ID: "d0", PendingLogBytes: 3 << 20}}},
		{VMID: "vm-failed", Phase: replication.PhaseFailed, Failure: &replication.Failure{From: replication.PhaseDeltaReplication,
			Reason: "upload_cycle: hub unreachable", Attempts: 3, NextRetry: now.Add(4 * time.Minute)}},
	}
	var buf bytes.Buffer
	if err := Render(&buf, states, now); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	t.Log("\n" + out)
	for _, want := range []string{"50% (1/2 disks, copying)", "41 (42 uploading)", "1m30s ago", "5m0s/7m0s, 2 late", "3.0 MiB",
		"upload_cycle: hub unreachable; retry 3 in 4m0s", "vm-failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q", want)
		}
	}
	if lines := strings.Count(out, "\n"); lines != 4 {
		t.Errorf("%d lines, want a header and 3 VMs", lines)
	}
}

func TestLoad_readsTheStoreAndNamesALockedOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provider.db")
	st, err := store.Open(store.DefaultConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(replication.State{VMID: "vm1", Phase: replication.PhaseEnabling, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "provider running") {
		t.Fatalf("load of a locked store: %v", err)
	}
	st.Close()
	got, err := Load(path, time.Second)
	if err != nil || len(got) != 1 || got[0].VMID != "vm1" {
		t.Fatalf("load: %v %v", got, err)
	}
}
