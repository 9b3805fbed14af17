package simhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
)

// Daemon owns a directory of VMs. Its methods are safe for concurrent use.
type Daemon struct {
	cfg Config
	log hclog.Logger

	mu     sync.RWMutex
	vms    map[string]*vm
	closed bool
}

// Open loads every VM under cfg.Dir (creating the directory if needed),
// recovers what a crash left behind, and returns the daemon.
func Open(cfg Config) (*Daemon, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("daemon directory: %w: empty", ErrInvalid)
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", cfg.Dir, err)
	}
	d := &Daemon{cfg: cfg, log: cfg.Logger, vms: map[string]*vm{}}
	entries, err := os.ReadDir(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", cfg.Dir, err)
	}
	for _, e := range entries {
		if _, perr := uuid.Parse(e.Name()); !e.IsDir() || perr != nil {
			continue
		}
		v, err := d.loadVM(filepath.Join(cfg.Dir, e.Name()))
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("load vm %s: %w", e.Name(), err)
		}
		d.vms[v.rec.ID] = v
	}
	d.log.Info("daemon opened", "dir", cfg.Dir, "vms", len(d.vms))
	return d, nil
}

// Close stops every VM's workloads, closes every disk and closes open
// logs cleanly (the next switch hands them out). Running VMs stay marked
// running and are resumed by the next Open.
func (d *Daemon) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	vms := d.sortedVMs()
	d.mu.Unlock()
	var errs []error
	for _, v := range vms {
		errs = append(errs, v.shutdownDaemon())
	}
	return errors.Join(errs...)
}

// lookup returns the VM with id.
func (d *Daemon) lookup(id string) (*vm, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, ErrClosed
	}
	v, ok := d.vms[id]
	if !ok {
		return nil, fmt.Errorf("vm %q: %w (list VMs to see their ids)", id, ErrNotFound)
	}
	return v, nil
}

// sortedVMs lists the VMs by creation time then id; d.mu must be held.
func (d *Daemon) sortedVMs() []*vm {
	out := make([]*vm, 0, len(d.vms))
	for _, v := range d.vms {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].rec, out[j].rec
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
	return out
}

// ListVMs returns every VM's inventory.
func (d *Daemon) ListVMs() ([]VM, error) {
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		return nil, ErrClosed
	}
	vms := d.sortedVMs()
	d.mu.RUnlock()
	out := make([]VM, 0, len(vms))
	for _, v := range vms {
		out = append(out, v.view())
	}
	return out, nil
}

// GetVM returns one VM's inventory.
func (d *Daemon) GetVM(id string) (VM, error) {
	v, err := d.lookup(id)
	if err != nil {
		return VM{}, err
	}
	return v.view(), nil
}
