package hublink

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication/driver"
	"hvmigrate/shared/secret"
)

// ErrNoGrant means the hub has not (yet) pushed a usable SAS for the blob;
// the driver retries the action that wanted it.
var ErrNoGrant = errors.New("no sas grant from the hub")

// Grant purposes the hub uses in its SAS grants.
const (
	purposeReplica = "replica"
	purposeCycle   = "cycle"
)

// grants caches the SAS grants the hub pushed, per VM. The hub sends a
// VM's full set with every EnableReplication and RefreshSAS, so a new set
// replaces the old one.
type grants struct {
	mu      sync.Mutex
	byVM    map[string][]hubclient.SASGrant
	changed chan struct{} // closed and replaced on every change
}

func newGrants() *grants {
	return &grants{byVM: map[string][]hubclient.SASGrant{}, changed: make(chan struct{})}
}

// set replaces a VM's grants and wakes every waiter.
func (g *grants) set(vmID string, gs []hubclient.SASGrant) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.byVM[vmID] = append([]hubclient.SASGrant(nil), gs...)
	close(g.changed)
	g.changed = make(chan struct{})
}

// forget drops a VM's grants.
func (g *grants) forget(vmID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.byVM, vmID)
}

// lookup returns the grant for a request, or false with a channel that
// closes when the cache changes.
func (g *grants) lookup(req driver.SASRequest, validUntil time.Time) (driver.SAS, bool, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, gr := range g.byVM[req.VMID] {
		if gr.DiskID != req.DiskID || (!gr.ExpiresAt.IsZero() && gr.ExpiresAt.Before(validUntil)) {
			continue
		}
		blob, ok := matchGrant(gr, req)
		if ok {
			return driver.SAS{Blob: blob, URL: gr.URL}, true, nil
		}
	}
	return driver.SAS{}, false, g.changed
}

// wait looks a grant up, waiting up to maxWait for one to arrive.
func (g *grants) wait(ctx context.Context, req driver.SASRequest, maxWait, minLife time.Duration) (driver.SAS, error) {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	for {
		sas, ok, changed := g.lookup(req, time.Now().Add(minLife))
		if ok {
			return sas, nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return driver.SAS{}, fmt.Errorf("%w: vm %s disk %s %s (generation %d, cycle %d) after %s",
				ErrNoGrant, req.VMID, req.DiskID, req.Kind, req.Generation, req.Cycle, maxWait)
		case <-ctx.Done():
			return driver.SAS{}, fmt.Errorf("wait for sas of vm %s disk %s: %w", req.VMID, req.DiskID, ctx.Err())
		}
	}
}

// matchGrant reports whether a grant (already known to be for the disk)
// covers the request, and returns the blob name inside its container.
// The hub grants one replica blob per disk (whatever the generation) and
// one delta object per disk and cycle, named ".../cycle/<n>.delta".
func matchGrant(gr hubclient.SASGrant, req driver.SASRequest) (string, bool) {
	blob, err := blobOf(gr.URL)
	if err != nil {
		return "", false
	}
	switch req.Kind {
	case driver.BlobReplica:
		return blob, gr.Purpose == purposeReplica
	case driver.BlobDelta:
		return blob, gr.Purpose == purposeCycle && strings.HasSuffix(blob, "/cycle/"+strconv.FormatUint(req.Cycle, 10)+".delta")
	}
	return "", false
}

// blobOf returns the blob name of a SAS URL: its path after the container
// (and, for an emulator's path-style URL, after the account too). The hub
// names every blob of a VM under "vm/".
func blobOf(u secret.String) (string, error) {
	parsed, err := url.Parse(u.Reveal())
	if err != nil {
		return "", fmt.Errorf("sas url does not parse")
	}
	p := parsed.Path
	if i := strings.Index(p, "/vm/"); i >= 0 {
		return p[i+1:], nil
	}
	return "", fmt.Errorf("sas url names no vm blob")
}
