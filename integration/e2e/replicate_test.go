//go:build integration

package e2e

import (
	"testing"
	"time"

	"hvmigrate/integration/cluster"
)

// TestE2E_replicateAndMigrate: two VMs (three disks) under a guest
// workload replicate through the hub; every recovery point of every VM
// equals the simulated host's checksum of its disks at the log switch of
// that point's cycle; then one VM is migrated and its migrated disks
// equal the stopped source byte for byte.
func TestE2E_replicateAndMigrate(t *testing.T) {
	c := cluster.Start(t, cluster.DefaultOptions())
	vms := createVMs(t, c, twoVMs)
	enable(c, vms)
	w := startWorkloads(c, vms, 256<<10)
	waitCycles(t, c, vms, 5, 3*time.Minute)
	w.stop()
	checkAllPoints(t, c, vms, 3)
	migrate(t, c, vms[0])
	assertNoSecrets(t, c)
}
