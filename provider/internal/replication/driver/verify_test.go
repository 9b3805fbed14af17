package driver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"

	"hvmigrate/provider/internal/replication"
	"hvmigrate/shared/delta"
)

// download reads a whole blob with the account key.
func (r *rig) download(name string) []byte {
	r.t.Helper()
	c, err := r.srv.Client()
	if err != nil {
		r.t.Fatal(err)
	}
	resp, err := c.DownloadStream(context.Background(), container, name, nil)
	if err != nil {
		r.t.Fatalf("download %s: %v", name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("download %s: %v", name, err)
	}
	return b
}

// rebuild applies the manifests (a base, then cycles in order) to one disk
// and returns the SHA-256 of the result.
func (r *rig) rebuild(ms []replication.Manifest, diskID string, size int64) string {
	r.t.Helper()
	var img []byte
	for _, m := range ms {
		obj := objectOf(m, diskID)
		if obj == "" {
			r.t.Fatalf("cycle %d has no object for disk %s", m.Cycle, diskID)
		}
		blob := r.download(obj)
		if m.Kind == replication.ManifestBase {
			if int64(len(blob)) < size+512 {
				r.t.Fatalf("replica base %s is %d bytes for a %d-byte disk", obj, len(blob), size)
			}
			img = blob[:size]
			continue
		}
		r.apply(blob, img, m.Cycle)
	}
	sum := sha256.Sum256(img)
	return hex.EncodeToString(sum[:])
}

func objectOf(m replication.Manifest, diskID string) string {
	for _, d := range m.Disks {
		if d.DiskID == diskID {
			return d.Object
		}
	}
	return ""
}

// apply writes a delta object's extents into img.
func (r *rig) apply(obj, img []byte, cycle uint64) {
	r.t.Helper()
	rd, err := delta.NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		r.t.Fatalf("delta of cycle %d: %v", cycle, err)
	}
	if h := rd.Header(); h.Cycle != cycle {
		r.t.Fatalf("delta object of cycle %d says cycle %d", cycle, h.Cycle)
	}
	it := rd.Extents()
	defer it.Close()
	for {
		e, err := it.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			r.t.Fatalf("delta of cycle %d: %v", cycle, err)
		}
		b, err := it.Data()
		if err != nil {
			r.t.Fatalf("delta of cycle %d: %v", cycle, err)
		}
		if e.Kind == delta.Zero {
			clear(img[e.Offset:e.End()])
		} else {
			copy(img[e.Offset:], b)
		}
	}
}
