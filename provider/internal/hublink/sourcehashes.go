package hublink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"hvmigrate/provider/internal/hubclient"
	"hvmigrate/provider/internal/replication"
	"hvmigrate/provider/internal/replication/driver"
)

// Hasher hashes a disk in fixed-size chunks on the agent;
// driver.LinkAgent is one.
type Hasher interface {
	HashDisk(ctx context.Context, path string, chunkBytes int64, fn func(first int64, hashes []string) error) (int64, error)
}

var _ Hasher = driver.LinkAgent{}

const (
	// sourceChunkBytes is the chunk the migration check compares.
	sourceChunkBytes = 4 << 20
	// hashesPerEvent keeps one event far below the stream's message
	// limit (and the hub's bound per event).
	hashesPerEvent = 8192
)

// reportSourceHashes sends the chunk hashes of every disk of a final
// manifest, hashed from the stopped VM's disk files, for the hub to check
// the replica against before it migrates. Event ids derive from the VM,
// cycle, disk and first chunk, so a repeat after a restart is one event
// for the hub.
func (h *Hub) reportSourceHashes(ctx context.Context, m replication.Manifest) error {
	if h.hasher == nil || h.vms == nil {
		return fmt.Errorf("final cycle of vm %s: no agent to hash the source disks", m.VMID)
	}
	vm, err := h.vms.VM(ctx, m.VMID)
	if err != nil {
		return fmt.Errorf("final cycle of vm %s: %w", m.VMID, err)
	}
	paths := map[string]string{}
	for _, d := range vm.Disks {
		paths[d.ID] = d.Path
	}
	for _, md := range m.Disks {
		path, ok := paths[md.DiskID]
		if !ok {
			return fmt.Errorf("final cycle of vm %s: disk %s is no longer on the host", m.VMID, md.DiskID)
		}
		send := func(first int64, hashes []string) error {
			for len(hashes) > 0 {
				n := min(len(hashes), hashesPerEvent)
				ev := hubclient.Event{
					ID: hashesEventID(m.VMID, md.DiskID, m.Cycle, first),
					SourceHashes: &hubclient.SourceHashes{VMID: m.VMID, DiskID: md.DiskID, Cycle: m.Cycle,
						ChunkBytes: sourceChunkBytes, FirstChunk: uint64(first), SHA256: hashes[:n]},
				}
				if err := h.queue(ev); err != nil {
					return err
				}
				first, hashes = first+int64(n), hashes[n:]
			}
			return nil
		}
		if _, err := h.hasher.HashDisk(ctx, path, sourceChunkBytes, send); err != nil {
			return fmt.Errorf("final cycle of vm %s: hash disk %s: %w", m.VMID, md.DiskID, err)
		}
		h.log.Info("source disk hashed for the migration check", "vm_id", m.VMID, "disk_id", md.DiskID)
	}
	return nil
}

// hashesEventID names a piece of a disk's source hashes: stable for the
// same VM, disk, cycle and first chunk, and short enough for the hub's
// 64-character limit on event ids.
func hashesEventID(vmID, diskID string, cycle uint64, first int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d/%d", vmID, diskID, cycle, first))
	return "hashes-" + hex.EncodeToString(sum[:16])
}
