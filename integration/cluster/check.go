package cluster

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/google/uuid"

	"hvmigrate/integration/simhost"
)

// VMStatus is one row of `hvmctl status -o json`.
type VMStatus struct {
	VMID          string `json:"vm_id"`
	Name          string `json:"name"`
	State         string `json:"state"`
	AppliedCycle  uint64 `json:"applied_cycle"`
	Health        string `json:"health"`
	HealthMessage string `json:"health_message"`
	Points        int    `json:"recovery_points"`
}

// Status returns the hub's view of every replicated VM by name.
func (c *Cluster) Status() map[string]VMStatus {
	c.T.Helper()
	var rows []VMStatus
	c.CtlJSON(&rows, "status")
	out := map[string]VMStatus{}
	for _, r := range rows {
		out[r.Name] = r
	}
	return out
}

// Applied is the VM's applied cycle at the hub (0 if none).
func (c *Cluster) Applied(vm string) uint64 { return c.Status()[vm].AppliedCycle }

// Point is a recovery point as hvmctl lists it.
type Point struct {
	ID    uint64 `json:"id"`
	Disks []struct {
		DiskID   string `json:"disk_id"`
		Snapshot string `json:"snapshot"`
	} `json:"disks"`
}

// Points lists a VM's recovery points.
func (c *Cluster) Points(vm string) []Point {
	c.T.Helper()
	var ps []Point
	c.CtlJSON(&ps, "recovery-points", "list", vm)
	return ps
}

// hexID is a GUID's 16 bytes in hex, as the hub names blobs.
func hexID(s string) (string, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(u[:]), nil
}

// BlobSHA256 hashes the first size bytes of a blob (of a snapshot when
// snapshot is set) in the project's replicas container.
func (c *Cluster) BlobSHA256(name, snapshot string, size int64) (string, error) {
	h := sha256.New()
	if err := c.copyBlob(h, name, snapshot, size); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyBlob writes the first size bytes of a blob (of a snapshot when
// snapshot is set) in the project's replicas container to w.
func (c *Cluster) copyBlob(w io.Writer, name, snapshot string, size int64) error {
	admin, err := c.Storage.Client()
	if err != nil {
		return err
	}
	bc := admin.ServiceClient().NewContainerClient("rep-" + c.Project).NewBlobClient(name)
	if snapshot != "" {
		if bc, err = bc.WithSnapshot(snapshot); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := bc.DownloadStream(ctx, &blob.DownloadStreamOptions{Range: blob.HTTPRange{Count: size}})
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer r.Body.Close()
	n, err := io.Copy(w, r.Body)
	if err != nil || n != size {
		return fmt.Errorf("read %s: %d of %d bytes: %v", name, n, size, err)
	}
	return nil
}

// ReplicaBlob names a disk's replica page blob.
func ReplicaBlob(vmID, diskID string) (string, error) {
	v, err := hexID(vmID)
	if err != nil {
		return "", err
	}
	d, err := hexID(diskID)
	if err != nil {
		return "", err
	}
	return "vm/" + v + "/disk/" + d + ".vhd", nil
}

// manifestLine is the provider's record of a cycle it reported.
var manifestLine = regexp.MustCompile(`cycle manifest sent: vm_id=(\S+) cycle=(\d+) kind=(\S+) generation=(\d+) host_switch=(\d+)`)

// Manifest is what the provider logged of a cycle it reported.
type Manifest struct {
	Cycle, Generation, HostSwitch uint64
	Kind                          string
}

// Manifests reads, from every life of the provider's log, the cycles of
// a VM the provider reported, by cycle (a repeat keeps the last).
func (c *Cluster) Manifests(vmID string) map[uint64]Manifest {
	out := map[uint64]Manifest{}
	f, err := os.Open(c.Prv.LogPath)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := manifestLine.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != vmID {
			continue
		}
		n, _ := strconv.ParseUint(m[2], 10, 64)
		g, _ := strconv.ParseUint(m[4], 10, 64)
		h, _ := strconv.ParseUint(m[5], 10, 64)
		out[n] = Manifest{Cycle: n, Generation: g, HostSwitch: h, Kind: m[3]}
	}
	return out
}

// PointCheck is the result of comparing recovery points with the source.
type PointCheck struct {
	Checked int      // points compared byte for byte (by SHA-256) with the source
	Unknown []string // points whose source instant has no recorded checksum
}

// CheckPoints compares every recovery point of a VM with the simulated
// host's checksums of its disks at the log switch the point's cycle was
// cut at. A difference fails the test once every point was compared, with
// every differing point listed (and, when the host keeps copies of its
// disks, the differing byte ranges); a point whose switch has no recorded
// checksum (a base copied from a checkpoint) is listed.
func (c *Cluster) CheckPoints(vm simhost.VM) PointCheck {
	c.T.Helper()
	var res PointCheck
	var mismatches []string
	manifests := c.Manifests(vm.ID)
	points := c.Points(vm.Name)
	for _, p := range points {
		m, ok := manifests[p.ID]
		if !ok || m.HostSwitch == 0 || (m.Kind != "delta" && m.Kind != "final") {
			res.Unknown = append(res.Unknown, fmt.Sprintf("point %d (%+v)", p.ID, m))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		sums, err := c.Sim.GetSwitchChecksums(ctx, vm.ID, m.HostSwitch)
		cancel()
		if err != nil {
			res.Unknown = append(res.Unknown, fmt.Sprintf("point %d: switch %d: %v", p.ID, m.HostSwitch, err))
			continue
		}
		byDisk := map[string]simhost.DiskChecksum{}
		for _, s := range sums {
			byDisk[strings.ToLower(s.DiskID)] = s
		}
		if len(p.Disks) != len(sums) {
			c.T.Fatalf("vm %s point %d has %d disks; the source has %d", vm.Name, p.ID, len(p.Disks), len(sums))
		}
		equal := true
		for _, d := range p.Disks {
			want, ok := byDisk[strings.ToLower(d.DiskID)]
			if !ok {
				c.T.Fatalf("vm %s point %d: disk %s is not on the host", vm.Name, p.ID, d.DiskID)
			}
			name, err := ReplicaBlob(vm.ID, d.DiskID)
			must(c.T, err)
			got, err := c.BlobSHA256(name, d.Snapshot, want.Size)
			must(c.T, err)
			if got != want.SHA256 {
				equal = false
				msg := fmt.Sprintf("vm %s recovery point %d (cycle %d, generation %d), disk %s: sha256 %s; the source at host switch %d has %s",
					vm.Name, p.ID, m.Cycle, m.Generation, d.DiskID, got, m.HostSwitch, want.SHA256)
				if why := c.explainMismatch(vm, points, want, name, d.Snapshot, m.HostSwitch); why != "" {
					msg += "\n" + why
				}
				mismatches = append(mismatches, msg)
			}
		}
		if equal {
			res.Checked++
		}
	}
	if len(mismatches) > 0 {
		c.T.Fatalf("vm %s: %d disk copies in recovery points differ from the source:\n%s", vm.Name, len(mismatches),
			strings.Join(mismatches, "\n"))
	}
	return res
}
