package state_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"hvmigrate/hub/internal/state"
)

func hostOf(t *testing.T, s *state.Store, id string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.FindProject(ctx, "p1"); err != nil {
		seed(t, s)
	}
	k := state.Key{ID: "k-" + id, ProjectID: "p1", SecretHash: "s" + id, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	r := state.Redemption{KeyID: k.ID, SecretHash: k.SecretHash, PublicKeyHash: "pk" + id, NewHostID: id, Now: t0}
	if _, _, err := s.Redeem(ctx, r); err != nil {
		t.Fatal(err)
	}
}

func TestStore_Commands_orderAckAndIdempotentEnqueue(t *testing.T) {
	s, _ := openStore(t)
	hostOf(t, s, "h1")
	ctx := context.Background()
	for _, id := range []string{"c1", "c2", "c1"} {
		if _, err := s.EnqueueCommand(ctx, state.Command{HostID: "h1", ID: id, Kind: "resync", Payload: []byte(id), CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := s.PendingCommands(ctx, "h1")
	if err != nil || len(pending) != 2 || pending[0].ID != "c1" || pending[1].ID != "c2" {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	if changed, err := s.AckCommand(ctx, "h1", "c1", t0); err != nil || !changed {
		t.Fatalf("ack: %v %v", changed, err)
	}
	if changed, _ := s.AckCommand(ctx, "h1", "c1", t0); changed {
		t.Fatal("second ack changed the command")
	}
	if changed, _ := s.AckCommand(ctx, "h2", "c2", t0); changed {
		t.Fatal("another host acknowledged h1's command")
	}
	pending, _ = s.PendingCommands(ctx, "h1")
	if len(pending) != 1 || pending[0].ID != "c2" {
		t.Fatalf("pending after ack = %+v", pending)
	}
	if _, err := s.EnqueueCommand(ctx, state.Command{HostID: "nope", ID: "c", Kind: "k", Payload: []byte{1}}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("enqueue for unknown host: %v", err)
	}
}

func TestStore_RecordEvent_inventoryOwnershipAndDuplicates(t *testing.T) {
	s, _ := openStore(t)
	hostOf(t, s, "h1")
	hostOf(t, s, "h2")
	ctx := context.Background()
	inv := []state.VM{{ID: "vm1", Name: "web", PowerState: "running", Disks: []state.Disk{{ID: "d1", Name: "os", SizeBytes: 1 << 30}}}}
	dup, err := s.RecordEvent(ctx, state.Event{HostID: "h1", ID: "e1", Kind: "inventory", Payload: []byte{1}, ReceivedAt: t0}, inv)
	if err != nil || dup {
		t.Fatalf("first: dup=%v err=%v", dup, err)
	}
	if dup, err := s.RecordEvent(ctx, state.Event{HostID: "h1", ID: "e1", Kind: "inventory", Payload: []byte{1}, ReceivedAt: t0}, nil); err != nil || !dup {
		t.Fatalf("repeat: dup=%v err=%v", dup, err)
	}
	_, err = s.RecordEvent(ctx, state.Event{HostID: "h2", ID: "e1", Kind: "inventory", Payload: []byte{1}, ReceivedAt: t0}, inv)
	if !errors.Is(err, state.ErrForbidden) {
		t.Fatalf("h2 reporting h1's VM: err = %v, want ErrForbidden", err)
	}
	if has, _ := s.HasEvent(ctx, "h2", "e1"); has {
		t.Fatal("a refused event was stored")
	}
	vms, err := s.VMs(ctx, "")
	if err != nil || len(vms) != 1 || vms[0].HostID != "h1" || len(vms[0].Disks) != 1 {
		t.Fatalf("vms = %+v, %v", vms, err)
	}
	if err := s.CheckVMOwner(ctx, "h2", "vm1"); !errors.Is(err, state.ErrForbidden) {
		t.Fatalf("CheckVMOwner(h2) = %v", err)
	}
	if _, err := s.RecordEvent(ctx, state.Event{HostID: "h1", ID: "e2", Kind: "inventory", Payload: []byte{1}, ReceivedAt: t0}, []state.VM{}); err != nil {
		t.Fatal(err)
	}
	if vms, _ := s.VMs(ctx, "h1"); len(vms) != 0 {
		t.Fatalf("empty inventory left %+v", vms)
	}
}

func TestStore_VMs_hardwareRoundTripAndReplaced(t *testing.T) {
	s, _ := openStore(t)
	hostOf(t, s, "h1")
	hostOf(t, s, "h2")
	ctx := context.Background()
	web := state.VM{ID: "vm1", Name: "web", PowerState: "running", Generation: 2, VCPUs: 4, MemoryBytes: 8 << 30,
		NICs:  []state.NIC{{Name: "lan", SwitchName: "External", MACAddress: "00:15:5D:00:00:01"}, {Name: "backup", SwitchName: ""}},
		Disks: []state.Disk{{ID: "d1", Name: "os", SizeBytes: 1 << 30}, {ID: "d2", Name: "data", SizeBytes: 2 << 30}}}
	old := state.VM{ID: "vm2", Name: "old", PowerState: "off"}
	other := state.VM{ID: "vm3", Name: "other", PowerState: "off", Generation: 1, VCPUs: 1, MemoryBytes: 1 << 30,
		NICs: []state.NIC{{Name: "nic0", SwitchName: "Internal"}}}
	record := func(host, id string, vms ...state.VM) {
		t.Helper()
		if _, err := s.RecordEvent(ctx, state.Event{HostID: host, ID: id, Kind: "inventory", Payload: []byte{1}, ReceivedAt: t0}, vms); err != nil {
			t.Fatal(err)
		}
	}
	record("h1", "e1", web, old)
	record("h2", "e1", other)
	vms, err := s.VMs(ctx, "h1")
	if err != nil || len(vms) != 2 {
		t.Fatalf("vms = %+v, %v", vms, err)
	}
	got := map[string]state.VM{}
	for _, vm := range vms {
		vm.UpdatedAt = time.Time{}
		got[vm.ID] = vm
	}
	if !reflect.DeepEqual(got["vm1"], withHost(web, "h1")) || !reflect.DeepEqual(got["vm2"], withHost(old, "h1")) {
		t.Fatalf("stored vms = %+v, want %+v and %+v", got["vm1"], web, old)
	}
	web.NICs, web.Generation = web.NICs[1:], 1
	record("h1", "e2", web)
	vms, err = s.VMs(ctx, "")
	if err != nil || len(vms) != 2 || vms[0].ID != "vm1" || vms[1].ID != "vm3" {
		t.Fatalf("after the second report: %+v, %v", vms, err)
	}
	if vms[0].Generation != 1 || len(vms[0].NICs) != 1 || vms[0].NICs[0].Name != "backup" {
		t.Fatalf("vm1 not replaced: %+v", vms[0])
	}
	if len(vms[1].NICs) != 1 || vms[1].NICs[0].SwitchName != "Internal" || vms[1].VCPUs != 1 {
		t.Fatalf("the other host's vm = %+v", vms[1])
	}
}

func withHost(vm state.VM, host string) state.VM {
	vm.HostID = host
	return vm
}

func TestStore_RevokeHost_marksAndUnknown(t *testing.T) {
	s, _ := openStore(t)
	hostOf(t, s, "h1")
	ctx := context.Background()
	h, err := s.RevokeHost(ctx, "h1", t0)
	if err != nil || !h.Revoked {
		t.Fatalf("revoke = %+v, %v", h, err)
	}
	if _, err := s.RevokeHost(ctx, "zz", t0); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("revoke unknown = %v", err)
	}
}
