package hublink

import (
	"context"
	"fmt"

	"hvmigrate/provider/internal/agentclient"
	"hvmigrate/provider/internal/host"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
)

// Marker is what the adapter needs of the agent: a cycle upload it starts
// (or re-attaches to, by job id) and watches to its end.
type Marker interface {
	StartCycleUpload(ctx context.Context, spec agentclient.CycleUpload) (agentclient.Job, error)
	WatchJob(ctx context.Context, id string, fn func(agentclient.Job) error) (agentclient.Job, error)
}

var _ Marker = driver.LinkAgent{}

// VMSource looks a VM up on the host; host.Backend is one.
type VMSource interface {
	VM(ctx context.Context, vmID string) (host.VM, error)
}

// baseMarker turns a base manifest into a cycle the hub can apply: every
// disk gets an empty delta object with the base's cycle number (no logs,
// so no extents), which leaves the copied replica as it is and gives the
// hub its first recovery point at the copy's checkpoint.
type baseMarker struct {
	hub   *Hub
	agent Marker
	vms   VMSource
}

// markerJobID is the agent job of a base's marker, stable across retries.
func markerJobID(vmID string, cycle uint64) string {
	return fmt.Sprintf("base-%s-c%d", vmID, cycle)
}

// upload uploads the marker objects and returns the manifest that names
// them in place of the replica bases.
func (b *baseMarker) upload(ctx context.Context, m replication.Manifest) (replication.Manifest, error) {
	if b.agent == nil || b.vms == nil {
		return m, fmt.Errorf("base of vm %s: no agent to upload its marker cycle", m.VMID)
	}
	vm, err := b.vms.VM(ctx, m.VMID)
	if err != nil {
		return m, fmt.Errorf("base of vm %s: %w", m.VMID, err)
	}
	sizes := map[string]int64{}
	for _, d := range vm.Disks {
		sizes[d.ID] = d.VirtualSize
	}
	id := markerJobID(m.VMID, m.Cycle)
	spec := agentclient.CycleUpload{JobID: id, VMID: m.VMID, Cycle: m.Cycle, Previous: m.Previous}
	out := m
	out.Disks = nil
	for _, d := range m.Disks {
		sas, err := b.hub.RequestSAS(ctx, driver.SASRequest{VMID: m.VMID, DiskID: d.DiskID, Kind: driver.BlobDelta, Cycle: m.Cycle})
		if err != nil {
			return m, fmt.Errorf("base of vm %s: %w", m.VMID, err)
		}
		spec.Disks = append(spec.Disks, agentclient.CycleDisk{DiskID: d.DiskID, VirtualSize: sizes[d.DiskID], Target: sas.URL})
		out.Disks = append(out.Disks, replication.ManifestDisk{DiskID: d.DiskID, Object: sas.Blob})
	}
	if _, err := b.agent.StartCycleUpload(ctx, spec); err != nil {
		return m, fmt.Errorf("base of vm %s: start marker upload: %w", m.VMID, err)
	}
	job, err := b.agent.WatchJob(ctx, id, nil)
	if err == nil && job.State != agentclient.JobSucceeded {
		err = fmt.Errorf("job %s ended %s: %w", id, job.State, job.Err)
	}
	if err != nil {
		return m, fmt.Errorf("base of vm %s: marker upload: %w", m.VMID, err)
	}
	return out, nil
}
