// Package fakehub is an in-memory hub for tests of the replication driver:
// it hands out SAS URLs from a signer the test supplies, records every
// manifest, progress and health report, checks that a VM's cycle numbers
// arrive contiguous and never change meaning, and can play unreachable.
package fakehub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/shared/secret"
)

// ErrUnreachable is returned by every call while the hub plays unreachable.
var ErrUnreachable = errors.New("hub unreachable")

// Signer returns a URL with a SAS for one blob.
type Signer func(blob string, kind driver.BlobKind) (string, error)

// Hub is the fake.
type Hub struct {
	sign Signer

	mu          sync.Mutex
	unreachable bool
	manifests   map[string][]replication.Manifest // per VM, in arrival order, without repeats
	violations  []string
	progress    map[string]driver.Progress
	health      []driver.Health
	sasCount    int
}

var _ driver.Hub = (*Hub)(nil)

// New returns a hub that signs with sign; nil signs with a placeholder.
func New(sign Signer) *Hub {
	if sign == nil {
		sign = func(blob string, _ driver.BlobKind) (string, error) {
			return "https://storage.invalid/replicas/" + blob + "?sig=fake", nil
		}
	}
	return &Hub{sign: sign, manifests: map[string][]replication.Manifest{}, progress: map[string]driver.Progress{}}
}

// BlobName is the blob a SAS request is for.
func BlobName(r driver.SASRequest) string {
	if r.Kind == driver.BlobReplica {
		return fmt.Sprintf("%s/%s/base-g%d.vhd", r.VMID, r.DiskID, r.Generation)
	}
	return fmt.Sprintf("%s/%s/c%d.delta", r.VMID, r.DiskID, r.Cycle)
}

// SetUnreachable makes every call fail (true) or work (false).
func (h *Hub) SetUnreachable(v bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unreachable = v
}

func (h *Hub) check() error {
	if h.unreachable {
		return ErrUnreachable
	}
	return nil
}

// RequestSAS implements driver.Hub.
func (h *Hub) RequestSAS(_ context.Context, r driver.SASRequest) (driver.SAS, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.check(); err != nil {
		return driver.SAS{}, err
	}
	name := BlobName(r)
	u, err := h.sign(name, r.Kind)
	if err != nil {
		return driver.SAS{}, err
	}
	h.sasCount++
	return driver.SAS{Blob: name, URL: secret.New(u)}, nil
}

// ReportCycle implements driver.Hub: a repeat of a known manifest is
// accepted; a changed one, or a number that does not follow, is recorded
// as a violation.
func (h *Hub) ReportCycle(_ context.Context, m replication.Manifest) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.check(); err != nil {
		return err
	}
	list := h.manifests[m.VMID]
	for _, old := range list {
		if old.Cycle == m.Cycle {
			if !sameManifest(old, m) {
				h.violations = append(h.violations, fmt.Sprintf("vm %s: cycle %d reported again with other content:\n%+v\n%+v", m.VMID, m.Cycle, old, m))
			}
			return nil
		}
	}
	if n := len(list); n > 0 && (m.Cycle != list[n-1].Cycle+1 || m.Previous != list[n-1].Cycle) {
		h.violations = append(h.violations, fmt.Sprintf("vm %s: cycle %d (previous %d) after %d", m.VMID, m.Cycle, m.Previous, list[n-1].Cycle))
	}
	h.manifests[m.VMID] = append(list, m)
	return nil
}

// sameManifest compares manifests by content (times by instant).
func sameManifest(a, b replication.Manifest) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// ReportProgress implements driver.Hub.
func (h *Hub) ReportProgress(_ context.Context, p driver.Progress) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.check(); err != nil {
		return err
	}
	h.progress[p.VMID] = p
	return nil
}

// ReportHealth implements driver.Hub.
func (h *Hub) ReportHealth(_ context.Context, r driver.Health) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.check(); err != nil {
		return err
	}
	h.health = append(h.health, r)
	return nil
}

// Manifests returns a VM's manifests in arrival order.
func (h *Hub) Manifests(vmID string) []replication.Manifest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]replication.Manifest(nil), h.manifests[vmID]...)
}

// Violations lists every broken rule seen.
func (h *Hub) Violations() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.violations...)
}

// Progress returns the last progress report of a VM.
func (h *Hub) Progress(vmID string) (driver.Progress, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	p, ok := h.progress[vmID]
	return p, ok
}

// Health returns every health report.
func (h *Hub) Health() []driver.Health {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]driver.Health(nil), h.health...)
}
