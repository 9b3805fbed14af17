// Package hublink joins the replication driver to the hub's stream. Hub
// implements the driver's Hub port over the link: SAS requests are
// answered from the grants the hub pushed, reports become events.
// Handler turns the hub's commands into driver calls, and Inventory keeps
// the hub's list of the host's VMs current.
package hublink

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
)

// Sender queues events for the hub; hubclient.Link is one.
type Sender interface {
	Send(e hubclient.Event) (string, error)
}

var _ Sender = (*hubclient.Link)(nil)

// Acker waits for the hub to acknowledge (store) a queued event;
// hubclient.Link is one. A Sender without it is trusted on Send.
type Acker interface {
	WaitAcked(ctx context.Context, id string) error
}

var _ Acker = (*hubclient.Link)(nil)

// Config tunes the adapter.
type Config struct {
	// GrantWait bounds how long RequestSAS waits for a grant the hub has
	// not pushed yet.
	GrantWait time.Duration
	// GrantMinLife skips grants that expire sooner than this.
	GrantMinLife time.Duration
	// InventoryEvery spaces the inventory reports.
	InventoryEvery time.Duration
	// IntervalCap, when set, shortens every replication interval the hub
	// asks for to at most this (for tests and demonstrations).
	IntervalCap time.Duration
}

// DefaultConfig holds every default of the adapter.
func DefaultConfig() Config {
	return Config{GrantWait: 30 * time.Second, GrantMinLife: time.Minute, InventoryEvery: 5 * time.Minute}
}

// Hub is the driver's hub over the link.
type Hub struct {
	cfg    Config
	send   Sender
	grants *grants
	base   *baseMarker
	hasher Hasher
	vms    VMSource
	// resyncs holds the hub's answers to resync comparisons.
	resyncs *answers
	log     hclog.Logger
}

var _ driver.Hub = (*Hub)(nil)

// Deps are what the adapter talks to.
type Deps struct {
	// Send queues events for the hub.
	Send Sender
	// Agent uploads the empty cycle that tells the hub a copy finished
	// (see ReportCycle); Host gives that cycle's disk sizes.
	Agent Marker
	Host  VMSource
	// Hasher hashes the stopped VM's disks after a final cycle, for the
	// hub's migration check.
	Hasher Hasher
	Log    hclog.Logger
}

// NewHub returns the adapter.
func NewHub(cfg Config, deps Deps) *Hub {
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	h := &Hub{cfg: cfg, send: deps.Send, grants: newGrants(), hasher: deps.Hasher, vms: deps.Host, resyncs: newAnswers(),
		log: deps.Log.Named("hublink")}
	h.base = &baseMarker{hub: h, agent: deps.Agent, vms: deps.Host}
	return h
}

// RequestSAS implements driver.Hub from the grants the hub pushed.
func (h *Hub) RequestSAS(ctx context.Context, req driver.SASRequest) (driver.SAS, error) {
	return h.grants.wait(ctx, req, h.cfg.GrantWait, h.cfg.GrantMinLife)
}

// ReportCycle implements driver.Hub. A delta or final cycle goes up as
// its manifest. The hub's protocol has no base manifest: it takes the
// replica as it stands once the copy ends and counts cycles from there,
// so a base is announced as an empty cycle with the base's number,
// uploaded by the agent, after the disks' progress shows them complete.
// Each manifest's event id derives from the VM and cycle, so a repeat is
// one event for the hub.
func (h *Hub) ReportCycle(ctx context.Context, m replication.Manifest) error {
	if m.Kind == replication.ManifestBase {
		for _, d := range m.Disks {
			p := &hubclient.Progress{VMID: m.VMID, DiskID: d.DiskID, Phase: string(replication.PhaseInitialReplication),
				DoneBytes: uint64(max(d.Bytes, 0)), TotalBytes: uint64(max(d.Bytes, 0))}
			if err := h.queue(hubclient.Event{Progress: p}); err != nil {
				return err
			}
		}
		var err error
		if m, err = h.base.upload(ctx, m); err != nil {
			return err
		}
	}
	if m.Kind == replication.ManifestFinal {
		if err := h.reportSourceHashes(ctx, m); err != nil {
			return err
		}
	}
	id := manifestEventID(m)
	if err := h.queue(hubclient.Event{ID: id, CycleManifest: manifestToEvent(m)}); err != nil {
		return err
	}
	// The driver records the cycle as reported once this returns, so the
	// manifest must be stored by the hub by then: the link's outbox is
	// memory, and a provider killed with it queued would lose it.
	if a, ok := h.send.(Acker); ok {
		if err := a.WaitAcked(ctx, id); err != nil {
			return fmt.Errorf("manifest of cycle %d: %w", m.Cycle, err)
		}
	}
	// The host switch ties the hub's cycle to the host's instant, which an
	// operator (or a test) needs to compare a recovery point with its source.
	h.log.Info("cycle manifest sent", "vm_id", m.VMID, "cycle", m.Cycle, "kind", m.Kind,
		"generation", m.Generation, "host_switch", m.HostSwitch)
	return nil
}

// ReportProgress implements driver.Hub: one progress event per disk.
func (h *Hub) ReportProgress(_ context.Context, p driver.Progress) error {
	for _, d := range p.Disks {
		ev := &hubclient.Progress{VMID: p.VMID, DiskID: d.DiskID, Phase: string(p.Phase),
			DoneBytes: uint64(max(d.Done, 0)), TotalBytes: uint64(max(d.Total, 0))}
		if err := h.queue(hubclient.Event{Progress: ev}); err != nil {
			return err
		}
	}
	return nil
}

// ReportHealth implements driver.Hub. An error about a VM becomes the
// VM's error report; a warning marks the host degraded with the VM named;
// a notice is only logged, as the hub has no place for it.
func (h *Hub) ReportHealth(_ context.Context, hl driver.Health) error {
	switch hl.Level {
	case "error":
		return h.queue(hubclient.Event{ErrorReport: &hubclient.ErrorReport{VMID: hl.VMID, Reason: "replication", Message: hl.Message}})
	case "warn":
		return h.queue(hubclient.Event{Health: &hubclient.Health{Status: "degraded", Message: fmt.Sprintf("vm %s: %s", hl.VMID, hl.Message)}})
	}
	h.log.Info("replication notice", "vm_id", hl.VMID, "level", hl.Level, "message", hl.Message)
	return nil
}

// SetGrants replaces a VM's grants (from EnableReplication or RefreshSAS).
func (h *Hub) SetGrants(vmID string, gs []hubclient.SASGrant) { h.grants.set(vmID, gs) }

// ForgetGrants drops a VM's grants.
func (h *Hub) ForgetGrants(vmID string) { h.grants.forget(vmID) }

// queue sends one event.
func (h *Hub) queue(e hubclient.Event) error {
	if _, err := h.send.Send(e); err != nil {
		return fmt.Errorf("queue event for the hub: %w", err)
	}
	return nil
}
