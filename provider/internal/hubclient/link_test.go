package hubclient_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"hvmigrate/provider/internal/hubclient"
)

func inventoryEvent(vms ...string) hubclient.Event {
	inv := &hubclient.Inventory{}
	for _, id := range vms {
		inv.VMs = append(inv.VMs, hubclient.VM{ID: id, Name: "vm-" + id, PowerState: "running", Generation: 2, VCPUs: 4, MemoryBytes: 8 << 30,
			NICs:  []hubclient.NIC{{Name: "lan", SwitchName: "External", MACAddress: "00:15:5D:00:00:01"}},
			Disks: []hubclient.Disk{{ID: "d0", Name: "os.vhdx", SizeBytes: 2 << 30}}})
	}
	return hubclient.Event{Inventory: inv}
}

func TestLink_endToEnd_hvmctl(t *testing.T) {
	e := newHub(t)
	e.mustCtl("project", "create", "alpha")
	projects := decodeJSON[[]map[string]any](t, e.mustCtl("project", "list", "-o", "json"))
	if len(projects) != 1 || projects[0]["name"] != "alpha" {
		t.Fatalf("projects = %v", projects)
	}
	keyPath := e.key("alpha", "5d")
	id, dir := register(t, keyPath)
	rec := &recorder{}
	le := startLink(t, dir, rec, nil)
	waitUntil(t, "link connected", le.link.Connected)

	if _, err := le.link.Send(inventoryEvent("vm-a", "vm-b")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "inventory acked", func() bool { return le.link.Pending() == 0 })
	vms := decodeJSON[[]map[string]any](t, e.mustCtl("vm", "list", "-o", "json"))
	if len(vms) != 2 || vms[0]["host_id"] != id.HostID {
		t.Fatalf("vm list = %v", vms)
	}
	wantNICs := []any{map[string]any{"name": "lan", "switch": "External", "mac": "00:15:5D:00:00:01"}}
	if vms[0]["generation"] != 2.0 || vms[0]["vcpus"] != 4.0 || vms[0]["memory_bytes"] != float64(8<<30) ||
		!reflect.DeepEqual(vms[0]["nics"], wantNICs) {
		t.Fatalf("vm list hardware = %v", vms[0])
	}
	table := e.mustCtl("vm", "list")
	if !strings.Contains(table, "vm-vm-a") || !strings.HasPrefix(table, "ID ") || !strings.Contains(table, "8.0 GiB") {
		t.Fatalf("vm table:\n%s", table)
	}

	hosts := decodeJSON[[]map[string]any](t, e.mustCtl("host", "list", "-o", "json"))
	if len(hosts) != 1 || hosts[0]["id"] != id.HostID || hosts[0]["connected"] != true {
		t.Fatalf("host list = %v", hosts)
	}
	cmd := decodeJSON[map[string]string](t, e.mustCtl("host", "throttle", id.HostID, "--work-bps", "1000000", "-o", "json"))
	waitUntil(t, "throttle delivered", func() bool { return rec.count(cmd["command_id"]) == 1 })
	if got := rec.got[0].SetThrottle; got == nil || got.WorkHoursBps != 1000000 {
		t.Fatalf("command = %+v", rec.got[0])
	}

	e.mustCtl("host", "revoke", id.HostID)
	select {
	case err := <-le.done:
		le.done <- err
		if !errors.Is(err, hubclient.ErrHostRevoked) {
			t.Fatalf("link ended with %v, want ErrHostRevoked", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the revoked host's link kept running")
	}
	// A new connection of the revoked host is refused too.
	le2 := startLink(t, dir, rec, nil)
	select {
	case err := <-le2.done:
		le2.done <- err
		if !errors.Is(err, hubclient.ErrHostRevoked) {
			t.Fatalf("reconnect of a revoked host: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("a revoked host connected again")
	}
	hosts = decodeJSON[[]map[string]any](t, e.mustCtl("host", "list", "-o", "json"))
	if hosts[0]["revoked"] != true {
		t.Fatalf("host list after revoke = %v", hosts)
	}
	assertNoSecrets(t, keyPath, e.out.String(), e.ctlOut.String(), le.log.String(), le2.log.String())
}

// assertNoSecrets fails if any captured output holds the key's secret or
// a private key.
func assertNoSecrets(t *testing.T, keyPath string, outputs ...string) {
	t.Helper()
	sec := readKeyFile(t, keyPath).Secret.Reveal()
	for i, out := range outputs {
		if strings.Contains(out, sec) || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("output %d carries a secret", i)
		}
	}
}

func TestLink_commands_unackedRedeliveredAfterHubRestart(t *testing.T) {
	e := newHub(t)
	id, dir := register(t, e.key("alpha", "1h"))
	rec := &recorder{fails: 1}
	le := startLink(t, dir, rec, nil)
	waitUntil(t, "connected", le.link.Connected)
	cmd := decodeJSON[map[string]string](t, e.mustCtl("host", "throttle", id.HostID, "--off-bps", "5", "-o", "json"))["command_id"]
	waitUntil(t, "first delivery", func() bool { return rec.count(cmd) == 1 })

	e.stop()                                                       // the handler failed, so the command is not acknowledged
	if _, err := le.link.Send(inventoryEvent("vm1")); err != nil { // queued while the hub is down
		t.Fatal(err)
	}
	e.start()
	waitUntil(t, "redelivery after reconnect", func() bool { return rec.count(cmd) == 2 })
	waitUntil(t, "event delivered after reconnect", func() bool { return le.link.Pending() == 0 })
	if vms := decodeJSON[[]map[string]any](t, e.mustCtl("vm", "list", "-o", "json")); len(vms) != 1 {
		t.Fatalf("vms = %v", vms)
	}

	e.stop() // now acknowledged: a restart must not deliver it again
	e.start()
	waitUntil(t, "reconnect", func() bool { return strings.Count(le.log.String(), "connected to hub") >= 3 })
	time.Sleep(300 * time.Millisecond)
	if n := rec.count(cmd); n != 2 {
		t.Fatalf("command handled %d times, want 2 (one failure, one success)", n)
	}
}

func TestLink_events_hostCannotReportAnotherHostsVM(t *testing.T) {
	e := newHub(t)
	_, dirA := register(t, e.key("alpha", "1h"))
	_, dirB := register(t, e.key("alpha", "1h"))
	a := startLink(t, dirA, &recorder{}, nil)
	refused := make(chan error, 1)
	b := startLink(t, dirB, &recorder{}, func(c *hubclient.Config) {
		c.OnEventRefused = func(_ string, err error) { refused <- err }
	})
	if _, err := a.link.Send(inventoryEvent("shared-vm")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "A's inventory stored", func() bool { return a.link.Pending() == 0 && a.link.Connected() })
	if _, err := b.link.Send(inventoryEvent("shared-vm")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-refused:
		if !errors.Is(err, hubclient.ErrForbidden) {
			t.Fatalf("refusal = %v, want ErrForbidden", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("B's claim on A's VM was not refused")
	}
	if b.link.Pending() != 0 {
		t.Fatal("a refused event stays in the outbox")
	}
}

func TestLink_renewsCertificateBeforeExpiry(t *testing.T) {
	e := newHub(t, "--cert-lifetime", "1h")
	id, dir := register(t, e.key("alpha", "1h"))
	before, _ := os.ReadFile(filepath.Join(dir, "host-cert.pem"))
	le := startLink(t, dir, &recorder{}, func(c *hubclient.Config) { c.RenewBefore = 2 * time.Hour })
	waitUntil(t, "renewal", func() bool { return strings.Contains(le.log.String(), "certificate renewed") })
	waitUntil(t, "connected", le.link.Connected)
	after, _ := os.ReadFile(filepath.Join(dir, "host-cert.pem"))
	if string(after) == string(before) {
		t.Fatal("the certificate file did not change")
	}
	got := le.link.Identity()
	if got.HostID != id.HostID || !got.NotAfter.After(id.NotAfter.Add(-time.Second)) {
		t.Fatalf("identity after renewal = %+v, before %+v", got, id)
	}
	// The renewed certificate works on a fresh connection.
	e.stop()
	e.start()
	waitUntil(t, "reconnect with the new certificate", func() bool {
		return strings.Count(le.log.String(), "connected to hub") >= 2
	})
	if strings.Count(le.log.String(), "certificate renewed") != 1 {
		t.Fatalf("renewed more than once within the minimum interval:\n%s", le.log.String())
	}
}

func TestLink_NewLink_unregisteredDir(t *testing.T) {
	_, err := hubclient.NewLink(hubclient.DefaultConfig(t.TempDir()), &recorder{}, nil)
	if !errors.Is(err, hubclient.ErrNotRegistered) {
		t.Fatalf("err = %v, want ErrNotRegistered", err)
	}
}

func TestHub_SIGTERM_stopsGracefullyWithConnectedHost(t *testing.T) {
	e := newHub(t)
	_, dir := register(t, e.key("alpha", "1h"))
	le := startLink(t, dir, &recorder{}, nil)
	waitUntil(t, "connected", le.link.Connected)
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("graceful stop took %s", d)
	}
	waitUntil(t, "link notices", func() bool { return !le.link.Connected() })
	_ = context.Background()
}
