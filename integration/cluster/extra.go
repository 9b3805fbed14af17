package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Run runs a one-shot program (recorded in the commands log) and returns
// its combined output and error.
func (c *Cluster) Run(bin string, args ...string) (string, error) { return c.run(bin, args...) }

// IdentityDir is the registered host's identity directory.
func (c *Cluster) IdentityDir() string { return c.identity }

// Spawn starts an extra long-running program whose output goes to
// LogDir/name.log; it is stopped when the test ends.
func (c *Cluster) Spawn(name, bin string, args ...string) *Proc {
	c.T.Helper()
	p := newProc(name, c.log(name), bin, args...)
	must(c.T, p.Start())
	c.T.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

// CyclesContainer is the project's container of delta objects.
func (c *Cluster) CyclesContainer() string { return "cyc-" + c.Project }

// CycleObjects lists the committed delta objects of a VM in the cycles
// container (uncommitted uploads are not listed).
func (c *Cluster) CycleObjects(vmID string) ([]string, error) {
	v, err := hexID(vmID)
	if err != nil {
		return nil, err
	}
	admin, err := c.Storage.Client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prefix := "vm/" + v + "/"
	pager := admin.ServiceClient().NewContainerClient(c.CyclesContainer()).NewListBlobsFlatPager(
		&container.ListBlobsFlatOptions{Prefix: &prefix})
	var out []string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", c.CyclesContainer(), prefix, err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name != nil && strings.HasSuffix(*b.Name, ".delta") {
				out = append(out, *b.Name)
			}
		}
	}
	return out, nil
}

// FlipBit rewrites a committed block blob of the cycles container with
// one bit inverted: bit 0..7 of the byte at off (off < 0 counts from the
// end). It returns the blob's size.
func (c *Cluster) FlipBit(name string, off int64, bit uint) (int64, error) {
	admin, err := c.Storage.Client()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := admin.DownloadStream(ctx, c.CyclesContainer(), name, nil)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", name, err)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil || r.ContentLength == nil || int64(len(b)) != *r.ContentLength {
		return 0, fmt.Errorf("download %s: %d bytes read: %v", name, len(b), err)
	}
	if off < 0 {
		off += int64(len(b))
	}
	if off < 0 || off >= int64(len(b)) || bit > 7 {
		return 0, fmt.Errorf("flip bit %d of byte %d: %s has %d bytes", bit, off, name, len(b))
	}
	b[off] ^= 1 << bit
	if _, err := admin.UploadBuffer(ctx, c.CyclesContainer(), name, b, nil); err != nil {
		return 0, fmt.Errorf("rewrite %s: %w", name, err)
	}
	return int64(len(b)), nil
}
