package replication_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"hvmigrate/hub/internal/replication"
	"hvmigrate/hub/internal/state"
)

const chunk = 64 << 10

// hashes returns the source hashes of disk i at a cycle, blank for zero
// chunks as an agent reading a sparse disk would send.
func (s *source) hashes(i int, cycle uint64) replication.DiskHashes {
	data := s.history[cycle][i]
	h := replication.DiskHashes{Cycle: cycle, ChunkBytes: chunk}
	for off := 0; off < len(data); off += chunk {
		c := data[off:min(off+chunk, len(data))]
		if bytes.Count(c, []byte{0}) == len(c) {
			h.SHA256 = append(h.SHA256, "")
			continue
		}
		sum := sha256.Sum256(c)
		h.SHA256 = append(h.SHA256, hex.EncodeToString(sum[:]))
	}
	return h
}

// replicatedTo enables a VM and applies cycles 1..n.
func (s *source) replicatedTo(n uint64) {
	s.e.t.Helper()
	if _, err := s.e.svc.Enable(s.e.ctx, s.name, testPolicy()); err != nil {
		s.e.t.Fatal(err)
	}
	s.copyInitial()
	for c := uint64(1); c <= n; c++ {
		s.event(s.nextCycle(planOpt))
		waitFor(s.e.t, "cycle applied", func() bool { return s.status().AppliedCycle == c })
	}
}

// finalCycle plays the host's side of Migrate: a last cycle, then the
// hashes of the stopped disks, with tamper applied to them.
func (s *source) finalCycle(tamper func(i int, h *replication.DiskHashes)) {
	s.e.t.Helper()
	s.event(s.nextCycle(planOpt))
	for i := range s.disks {
		h := s.hashes(i, s.cycle)
		if tamper != nil {
			tamper(i, &h)
		}
		half := len(h.SHA256) / 2 // in two pieces, the second first
		second, first := h, h
		second.SHA256, first.SHA256 = h.SHA256[half:], h.SHA256[:half]
		for _, p := range []struct {
			at int64
			h  replication.DiskHashes
		}{{int64(half), second}, {0, first}} {
			if err := s.e.svc.ReportSourceHashes(s.e.ctx, s.vmID(), s.diskID(i), p.at, p.h); err != nil {
				s.e.t.Fatal(err)
			}
		}
	}
}

func TestService_Migrate_verifiesCopiesAndStops(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("mig", 2<<20+4096, 1<<20)
	src.replicatedTo(2)
	m, err := e.svc.Migrate(e.ctx, "mig", true)
	if err != nil || m.Step != replication.StepRequested || !strings.Contains(m.Waiting, "source hashes") {
		t.Fatalf("migrate before the final cycle: %+v %v", m, err)
	}
	if !hasCommand(e, func(c string) bool { return strings.HasPrefix(c, "migrate-"+src.vmID()) }) {
		t.Fatal("no Migrate command queued")
	}
	// The definition takes the hardware reported when the migration was
	// requested, not what the host reports while it shuts down.
	requested := src.inv
	src.inv.PowerState, src.inv.VCPUs, src.inv.NICs = "off", 1, nil
	src.report()
	src.inv = requested
	if st := src.status(); st.State != state.ReplMigrating || !strings.Contains(st.Migration, "source hashes") {
		t.Fatalf("status while waiting: %s, migration %q", st.State, st.Migration)
	}
	src.finalCycle(nil)
	waitFor(t, "migrated", func() bool { return src.status().State == state.ReplMigrated })
	m, err = e.svc.Migrate(e.ctx, "mig", true)
	if err != nil || m.Step != replication.StepDone || m.FinalCycle != 3 {
		t.Fatalf("migration = %+v, %v", m, err)
	}
	checkMigrated(t, e, src, m)
	if !hasCommand(e, func(c string) bool { return c == "disable-"+src.vmID()+"-migrated" }) {
		t.Fatal("no DisableReplication command after the migration")
	}
}

func TestService_Migrate_mismatchNamesTheRange(t *testing.T) {
	e := newEnv(t)
	src := e.newSource("bad", 1<<20)
	src.replicatedTo(1)
	if _, err := e.svc.Migrate(e.ctx, "bad", false); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		first int64
		h     replication.DiskHashes
	}{
		{0, replication.DiskHashes{Cycle: 2, ChunkBytes: 1000, SHA256: []string{""}}},
		{0, replication.DiskHashes{Cycle: 0, ChunkBytes: chunk, SHA256: []string{""}}},
		{0, replication.DiskHashes{Cycle: 2, ChunkBytes: chunk, SHA256: []string{"XYZ"}}},
		{16, replication.DiskHashes{Cycle: 2, ChunkBytes: chunk, SHA256: []string{""}}},
		{-1, replication.DiskHashes{Cycle: 2, ChunkBytes: chunk, SHA256: []string{""}}},
	}
	for _, b := range bad {
		if err := e.svc.ReportSourceHashes(e.ctx, src.vmID(), src.diskID(0), b.first, b.h); !errors.Is(err, replication.ErrInvalid) {
			t.Errorf("ReportSourceHashes(%d, %+v) = %v, want ErrInvalid", b.first, b.h, err)
		}
	}
	src.finalCycle(func(_ int, h *replication.DiskHashes) { h.SHA256[3] = strings.Repeat("ab", 32) })
	var err error
	waitFor(t, "verification", func() bool {
		_, err = e.svc.Migrate(e.ctx, "bad", false)
		return err != nil
	})
	want := fmt.Sprintf("disk %s bytes %d-%d", src.diskID(0), 3*chunk, 4*chunk)
	if !errors.Is(err, replication.ErrVerify) || !strings.Contains(err.Error(), want) {
		t.Fatalf("migration error = %v, want ErrVerify naming %q", err, want)
	}
	if left, _ := e.blobs.List(e.ctx, "rep-"+e.project+"/migrated/"); len(left) != 0 {
		t.Fatalf("a failed verification left migrated blobs: %+v", left)
	}
	if r, err := e.svc.Resync(e.ctx, "bad"); err != nil || r.State != state.ReplInitialCopy {
		t.Fatalf("resync after a failed verification: %+v %v", r, err)
	}
}

// TestService_Migrate_crashAtEachStep abandons the migration once at each
// step and runs it again: one final set of disks, no orphans, one
// cleanup command.
func TestService_Migrate_crashAtEachStep(t *testing.T) {
	var mu sync.Mutex
	crashAt := map[string]string{}
	crashed := map[string]bool{}
	e := newEnvHook(t, func(vmID, step string) error {
		mu.Lock()
		defer mu.Unlock()
		if crashAt[vmID] == step && !crashed[vmID] {
			crashed[vmID] = true
			return fmt.Errorf("crash at %s", step)
		}
		return nil
	})
	for _, step := range []string{"request", "verify", "copy", "stop"} {
		t.Run(step, func(t *testing.T) {
			src := e.newSource("crash-"+step, 1<<20+4096)
			src.replicatedTo(1)
			mu.Lock()
			crashAt[src.vmID()] = step
			mu.Unlock()
			_, _ = e.svc.Migrate(e.ctx, src.name, true)
			if step == "request" {
				if _, err := e.svc.Migrate(e.ctx, src.name, true); err != nil {
					t.Fatal(err)
				}
			}
			src.finalCycle(nil)
			waitFor(t, "migrated", func() bool {
				m, err := e.svc.Migrate(e.ctx, src.name, true)
				return err == nil && m.Step == replication.StepDone
			})
			m, _ := e.svc.Migrate(e.ctx, src.name, true)
			mu.Lock()
			defer mu.Unlock()
			if !crashed[src.vmID()] {
				t.Fatalf("never crashed at %s", step)
			}
			checkMigrated(t, e, src, m)
		})
	}
}

// checkMigrated: exactly the disks, vm.json and template.json under the
// VM's migrated prefix, the disks equal to the source at the final cycle.
func checkMigrated(t *testing.T, e *env, src *source, m replication.Migration) {
	t.Helper()
	prefix := "rep-" + e.project + "/migrated/" + hexOf(src.id) + "/"
	listed, err := e.blobs.List(e.ctx, prefix)
	if err != nil || len(listed) != len(src.disks)+2 {
		t.Fatalf("migrated blobs = %+v, %v; want %d", listed, err, len(src.disks)+2)
	}
	for _, d := range m.Definition.Disks {
		i := src.diskIndex(d.ID)
		want := src.history[m.FinalCycle][i]
		got := make([]byte, len(want))
		name := strings.TrimPrefix(d.BlobURL, e.srv.Endpoint+"/")
		if _, err := e.blobs.ReadAt(e.ctx, name, "", got, 0); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("migrated disk %d differs from the source at the final cycle (%v)", i, err)
		}
	}
	checkHardware(t, e, prefix, src.inv)
	if !hasCommand(e, func(id string) bool { return id == "disable-"+src.vmID()+"-migrated" }) {
		t.Fatal("no cleanup command")
	}
	if !hasCommand(e, func(id string) bool { return strings.HasPrefix(id, "migrate-"+src.vmID()) }) {
		t.Fatal("no Migrate command")
	}
}

func hasCommand(e *env, match func(id string) bool) bool {
	for _, c := range e.streams.all() {
		if match(c.ID) {
			return true
		}
	}
	return false
}
