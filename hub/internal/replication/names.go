package replication

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"hvmigrate/shared/delta"
)

// ParseID turns a VM or disk id the hypervisor reported (a GUID) into the
// 16-byte id delta objects carry, in RFC 4122 byte order. Blob names use
// only its hex form, so nothing a host sends reaches a name verbatim.
func ParseID(s string) (delta.ID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return delta.ID{}, fmt.Errorf("%w: id %q is not a GUID", ErrInvalid, s)
	}
	return delta.ID(u), nil
}

// hexID renders an id for blob names.
func hexID(id delta.ID) string { return fmt.Sprintf("%x", id[:]) }

// Layout names the containers and blobs of a project. Every name derives
// from ids the hub checked: the project id the hub issued and the parsed
// VM and disk ids.
type Layout struct{}

// ReplicasContainer holds a project's replica disks, recovery point
// snapshots, test-migration copies and migrated disks.
func (Layout) ReplicasContainer(projectID string) string { return "rep-" + projectID }

// CyclesContainer holds a project's delta objects.
func (Layout) CyclesContainer(projectID string) string { return "cyc-" + projectID }

// ReplicaBlob names a disk's replica page blob inside ReplicasContainer.
func (Layout) ReplicaBlob(vm, disk delta.ID) string {
	return "vm/" + hexID(vm) + "/disk/" + hexID(disk) + ".vhd"
}

// CycleBlob names a disk's delta object of a cycle inside CyclesContainer.
func (Layout) CycleBlob(vm, disk delta.ID, cycle uint64) string {
	return "vm/" + hexID(vm) + "/disk/" + hexID(disk) + "/cycle/" + strconv.FormatUint(cycle, 10) + ".delta"
}

// TestMigrateBlob names a disk's copy of a test migration run.
func (Layout) TestMigrateBlob(vm, disk delta.ID, run string) string {
	return "testmigrate/" + hexID(vm) + "/" + run + "/disk-" + hexID(disk) + ".vhd"
}

// MigratedBlob names a disk's final copy after migration.
func (Layout) MigratedBlob(vm, disk delta.ID) string {
	return "migrated/" + hexID(vm) + "/disk-" + hexID(disk) + ".vhd"
}

// full joins a container and a blob into a storage name.
func full(container, blob string) string { return container + "/" + blob }
