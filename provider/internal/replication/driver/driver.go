// Package driver runs the replication state machine of every VM of the
// host: it feeds events into the machine, stores each new state before it
// runs the state's actions against the host, the agent and the hub, turns
// their results back into events, and ticks the cycle scheduler. A
// restarted driver reloads the stored states and resumes each VM from its
// last durable step, re-attaching to the agent's running jobs.
package driver

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/preflight"
	"hvmigrate/provider/internal/replication/store"
)

// ErrNotRunning means the driver is not running (not started or stopped).
var ErrNotRunning = errors.New("replication driver is not running")

// Config tunes the driver.
type Config struct {
	Machine   replication.Config
	Preflight preflight.Config
	// TickEvery is the scheduler's clock.
	TickEvery time.Duration
	// ProgressEvery spaces the copy progress the driver stores and reports.
	ProgressEvery time.Duration
	// CallTimeout bounds one call to the host or the hub.
	CallTimeout time.Duration
	// ResyncChunks is how many chunks a resync hashes a disk in, at most
	// (within the chunk sizes the agent hashes); ResyncWait bounds the
	// wait for the hub's comparison.
	ResyncChunks int
	ResyncWait   time.Duration
}

// DefaultConfig holds every default of the driver.
func DefaultConfig() Config {
	return Config{
		Machine:       replication.DefaultConfig(),
		Preflight:     preflight.DefaultConfig(),
		TickEvery:     time.Second,
		ProgressEvery: 2 * time.Second,
		CallTimeout:   2 * time.Minute,
		ResyncChunks:  1 << 16,
		ResyncWait:    10 * time.Minute,
	}
}

// Deps are what the driver drives.
type Deps struct {
	Store *store.Store
	Host  host.Backend
	Agent Agent
	Hub   Hub
	// ResyncAgent and Comparer make a resync send only the chunks that
	// differ from the replica; without either, a resync copies in full.
	ResyncAgent ResyncAgent
	Comparer    Comparer
	Space       preflight.Space
	Log         hclog.Logger
}

// Driver runs every VM's machine.
type Driver struct {
	cfg  Config
	deps Deps
	log  hclog.Logger

	mu      sync.Mutex
	ctx     context.Context // set while running
	vms     map[string]*vmLoop
	wg      sync.WaitGroup
	running bool
}

// New returns a driver that is not yet running.
func New(cfg Config, deps Deps) *Driver {
	if deps.Log == nil {
		deps.Log = hclog.NewNullLogger()
	}
	if deps.Space == nil {
		deps.Space = preflight.OSSpace{}
	}
	return &Driver{cfg: cfg, deps: deps, log: deps.Log.Named("replication"), vms: map[string]*vmLoop{}}
}

// Run loads the stored VMs, resumes each, and ticks the scheduler until
// ctx ends; it returns once every VM loop has stopped.
func (d *Driver) Run(ctx context.Context) error {
	states, err := d.deps.Store.List()
	if err != nil {
		return fmt.Errorf("load replication state: %w", err)
	}
	d.mu.Lock()
	d.ctx, d.running = ctx, true
	for _, st := range states {
		l := d.startLoopLocked(st)
		l.post(ctx, item{ev: replication.Resume{At: now()}})
	}
	d.mu.Unlock()
	d.log.Info("replication driver running", "vms", len(states))
	d.tick(ctx)
	d.mu.Lock()
	d.running = false
	d.mu.Unlock()
	d.wg.Wait()
	return nil
}

// tick posts the scheduler's clock to every VM until ctx ends.
func (d *Driver) tick(ctx context.Context) {
	t := time.NewTicker(d.cfg.TickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.mu.Lock()
			for _, l := range d.vms {
				l.offer(item{ev: replication.Tick{At: now.UTC().Round(0)}})
			}
			d.mu.Unlock()
		}
	}
}

// Submit applies a command from the hub (Disable, Resync, Pause, Unpause,
// Migrate, TestMigrate) to a VM and returns once its new state is stored,
// or with the machine's reason for refusing it. A command the VM already
// carries out (a second Disable, a Resync while resyncing) succeeds.
func (d *Driver) Submit(ctx context.Context, vmID string, ev replication.Event) error {
	d.mu.Lock()
	l, ok := d.vms[vmID]
	running, dctx := d.running, d.ctx
	d.mu.Unlock()
	switch {
	case !running:
		return ErrNotRunning
	case !ok:
		return fmt.Errorf("vm %s: %w: it is not replicated", vmID, replication.ErrInvalidTransition)
	}
	if err := l.submit(ctx, dctx, ev); err != nil && !errors.Is(err, replication.ErrIgnored) {
		return err
	}
	return nil
}

// Enable runs the preflight checks on the VM and, if nothing refuses,
// starts replicating it. Warnings go to the hub as health reports.
func (d *Driver) Enable(ctx context.Context, vmID string, policy replication.Policy) (preflight.Report, error) {
	vm, err := d.deps.Host.VM(ctx, vmID)
	if err != nil {
		return preflight.Report{}, fmt.Errorf("enable vm %s: %w", vmID, err)
	}
	rep := preflight.Check(vm, d.deps.Space, d.cfg.Preflight)
	if err := rep.Err(); err != nil {
		return rep, fmt.Errorf("enable vm %s: %w", vmID, err)
	}
	for _, w := range rep.Warnings() {
		d.health(vmID, "warn", w)
	}
	ev := replication.Enable{Policy: policy}
	for _, dk := range vm.Disks {
		ev.Disks = append(ev.Disks, replication.DiskSpec{ID: dk.ID, Size: dk.VirtualSize, DataWriteGUID: dk.DataWriteGUID})
	}
	l, dctx, err := d.loopFor(vmID)
	if err != nil {
		return rep, err
	}
	return rep, l.submit(ctx, dctx, ev)
}

// loopFor returns the VM's loop, starting one for a VM never replicated.
func (d *Driver) loopFor(vmID string) (*vmLoop, context.Context, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.running {
		return nil, nil, ErrNotRunning
	}
	l, ok := d.vms[vmID]
	if !ok {
		l = d.startLoopLocked(replication.State{VMID: vmID})
	}
	return l, d.ctx, nil
}

// SetThrottle replaces the host-wide upload limits on the agent.
func (d *Driver) SetThrottle(ctx context.Context, t agentclient.Throttle) error {
	if _, _, err := d.deps.Agent.SetThrottle(ctx, t); err != nil {
		return fmt.Errorf("set throttle: %w", err)
	}
	return nil
}

// State returns a VM's current state.
func (d *Driver) State(vmID string) (replication.State, bool) {
	d.mu.Lock()
	l, ok := d.vms[vmID]
	d.mu.Unlock()
	if !ok {
		return replication.State{}, false
	}
	return l.snapshot(), true
}

// health reports to the hub in the background; a lost report is logged.
func (d *Driver) health(vmID, level, msg string) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), d.cfg.CallTimeout)
		defer cancel()
		if err := d.deps.Hub.ReportHealth(ctx, Health{VMID: vmID, Level: level, Message: msg}); err != nil {
			d.log.Debug("health report lost", "vm_id", vmID, "error", err)
		}
	}()
}

// now is the time the driver puts into events: UTC and without a monotonic
// reading, so that a state reloaded from the store equals the one stored
// and a manifest built again is the same manifest.
func now() time.Time { return time.Now().UTC().Round(0) }
