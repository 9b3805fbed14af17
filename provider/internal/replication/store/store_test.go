package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hvmigrate/provider/internal/replication"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(DefaultConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore_Put_survivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	want := replication.State{VMID: "vm1", Phase: replication.PhaseDeltaReplication, Seq: 7, LastCycle: 4,
		InFlight: &replication.Cycle{Number: 5, Previous: 4, Stage: replication.CycleUploading,
			Disks: []replication.CycleDisk{{ID: "d0", Logs: []string{"a.hrl"}}}},
		NextCycleAt: time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)}
	if err := s.Put(want); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(replication.State{VMID: "vm0", Phase: replication.PhaseEnabling, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, path)
	defer s.Close()
	got, ok, err := s.Get("vm1")
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if got.InFlight == nil || got.InFlight.Disks[0].Logs[0] != "a.hrl" || got.Seq != 7 || !got.NextCycleAt.Equal(want.NextCycleAt) {
		t.Fatalf("reloaded %+v", got)
	}
	all, err := s.List()
	if err != nil || len(all) != 2 || all[0].VMID != "vm0" {
		t.Fatalf("list %v %v", all, err)
	}
	if _, ok, _ := s.Get("nope"); ok {
		t.Fatal("unknown vm found")
	}
}

func TestStore_Put_refusesOlderState(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	if err := s.Put(replication.State{VMID: "vm1", Seq: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(replication.State{VMID: "vm1", Seq: 4}); !errors.Is(err, ErrStaleWrite) {
		t.Fatalf("older state stored: %v", err)
	}
	if err := s.Put(replication.State{VMID: "vm1", Seq: 5}); err != nil {
		t.Fatalf("rewrite of the same seq refused: %v", err)
	}
}

func TestStore_Get_corruptRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		tx.Bucket(bucketVMs).Put([]byte("vm1"), []byte("{not json"))
		return tx.Bucket(bucketVMs).Put([]byte("vm2"), []byte(`{"VMID":"vm3"}`))
	})
	db.Close()
	s = open(t, path)
	defer s.Close()
	for _, id := range []string{"vm1", "vm2"} {
		if _, _, err := s.Get(id); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", id, err)
		}
	}
	if _, err := s.List(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("list: %v", err)
	}
}

func TestStore_Open_lockedFileTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	defer s.Close()
	cfg := DefaultConfig(path)
	cfg.LockTimeout = 100 * time.Millisecond
	if s2, err := Open(cfg); err == nil {
		s2.Close()
		t.Fatal("second writer opened a locked store")
	}
}
