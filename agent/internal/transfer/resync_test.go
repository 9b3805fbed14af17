package transfer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"hvmigrate/agent/internal/jobs"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/delta"
)

// TestRunner_ResyncUpload_toAzurite: a replica that differs from the
// frozen disk in a few places becomes byte-identical once the resync
// object of the differing ranges is applied; zero blocks inside a data
// range and ranges marked zero travel as zero extents, and a rerun sends
// nothing.
func TestRunner_ResyncUpload_toAzurite(t *testing.T) {
	e := newEnv(t)
	const size, chunk = 4 << 20, 64 << 10
	src := make([]byte, size)
	rand.Read(src[:2<<20])
	path := filepath.Join(t.TempDir(), "frozen.img")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	replica := bytes.Clone(src)
	rand.Read(replica[3*chunk : 5*chunk])               // stale data
	rand.Read(replica[(2<<20)+chunk : (2<<20)+2*chunk]) // source now zero
	rand.Read(replica[(2<<20)-chunk : 2<<20])           // a range half data half zero
	ranges := []jobs.Range{
		{Offset: 3 * chunk, Length: 2 * chunk},
		{Offset: (2 << 20) - chunk, Length: 2 * chunk},
		{Offset: (2 << 20) + chunk, Length: chunk, Zero: true},
	}
	clear(replica[2<<20 : (2<<20)+chunk]) // inside the second range, zero on both sides
	spec := jobs.ResyncUpload{VMID: "0f8fad5b-d9cb-469f-a165-70867728950e", DiskID: "7c9e6679-7425-40de-944b-e07fc1f90500",
		DiskPath: path, Cycle: 7, Previous: 6, Ranges: ranges,
		Target: e.sas(t, "vm/resync/7.delta", sas.BlobPermissions{Create: true, Write: true})}
	p := &upload.Progress{}
	if err := e.runner.RunResyncUpload(e.ctx, spec, e.store.Journal("resync-7"), p); err != nil {
		t.Fatal(err)
	}
	obj := e.download(t, "vm/resync/7.delta")
	r, err := delta.NewReader(bytes.NewReader(obj), int64(len(obj)))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Kind != delta.KindResync || h.Cycle != 7 || h.PrevCycle != 6 || h.VirtualSize != size {
		t.Fatalf("header %+v", h)
	}
	applyDelta(t, obj, replica)
	if !bytes.Equal(replica, src) {
		t.Fatal("replica plus the resync object differs from the frozen disk")
	}
	s := p.Snapshot(time.Now())
	if s.Total != 5*chunk || s.Skipped != 2*chunk {
		t.Fatalf("total %d skipped %d, want %d and %d", s.Total, s.Skipped, 5*chunk, 2*chunk)
	}
	if int64(len(obj)) > 3*chunk+4096 {
		t.Fatalf("object of %d bytes for 3 data chunks of random data", len(obj))
	}
	p2 := &upload.Progress{}
	if err := e.runner.RunResyncUpload(e.ctx, spec, e.store.Journal("resync-7"), p2); err != nil {
		t.Fatalf("repeat: %v", err)
	}
	if p2.Sent.Load() != 0 {
		t.Fatalf("repeat sent %d bytes", p2.Sent.Load())
	}
	// Nothing differs: the object is empty but valid, so the cycle applies.
	spec.Ranges, spec.Target = nil, e.sas(t, "vm/resync/8.delta", sas.BlobPermissions{Create: true, Write: true})
	spec.Cycle, spec.Previous = 8, 7
	if err := e.runner.RunResyncUpload(e.ctx, spec, e.store.Journal("resync-8"), &upload.Progress{}); err != nil {
		t.Fatal(err)
	}
	empty := e.download(t, "vm/resync/8.delta")
	before := bytes.Clone(replica)
	applyDelta(t, empty, replica)
	if !bytes.Equal(before, replica) {
		t.Fatal("an empty resync object changed the replica")
	}
}

func TestRunner_ResyncUpload_sourceProblems(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "frozen.img")
	if err := os.WriteFile(path, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := func(path string, g jobs.Range) jobs.ResyncUpload {
		return jobs.ResyncUpload{VMID: "0f8fad5b-d9cb-469f-a165-70867728950e", DiskID: "7c9e6679-7425-40de-944b-e07fc1f90500",
			DiskPath: path, Cycle: 2, Previous: 1, Ranges: []jobs.Range{g},
			Target: e.sas(t, "vm/resync/bad.delta", sas.BlobPermissions{Create: true, Write: true})}
	}
	tests := []struct {
		name string
		spec jobs.ResyncUpload
		want error
	}{
		{"missing_disk", spec(filepath.Join(t.TempDir(), "gone.img"), jobs.Range{Length: 512}), jobs.ErrSourceMissing},
		{"range_past_the_end", spec(path, jobs.Range{Offset: 1 << 20, Length: 512}), jobs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.runner.RunResyncUpload(e.ctx, tt.spec, e.store.Journal("bad-"+tt.name), &upload.Progress{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}
