package jobs

import (
	"errors"
	"path/filepath"
	"testing"

	"hvmigrate/shared/secret"
)

func resyncSpec(sig string) ResyncUpload {
	return ResyncUpload{VMID: "vm1", DiskID: "d1", DiskPath: "/x.avhdx", Cycle: 5, Previous: 4,
		Ranges: []Range{{Offset: 0, Length: 65536}, {Offset: 131072, Length: 65536, Zero: true}},
		Target: secret.New("https://a/c/vm/r/5.delta?sig=" + sig), Threads: 2}
}

func TestManager_StartResyncUpload_idempotentAndSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.db")
	r := &fakeRunner{release: make(chan struct{})}
	m, stop := newTestManager(t, path, r)
	if _, err := m.StartResyncUpload("rs-1", resyncSpec("one")); err != nil {
		t.Fatal(err)
	}
	info := waitState(t, m, "rs-1", StateSucceeded)
	if info.Kind != KindResyncUpload || info.Cycle != 5 || info.VMID != "vm1" {
		t.Fatalf("info %+v", info)
	}
	// The same work with a renewed SAS returns the finished job.
	if info, err := m.StartResyncUpload("rs-1", resyncSpec("two")); err != nil || info.State != StateSucceeded {
		t.Fatalf("repeat: %+v, %v", info, err)
	}
	// Other ranges under the same id are a conflict.
	other := resyncSpec("one")
	other.Ranges = other.Ranges[:1]
	if _, err := m.StartResyncUpload("rs-1", other); !errors.Is(err, ErrConflict) {
		t.Fatalf("other ranges: %v, want ErrConflict", err)
	}
	stop()
	m2, stop2 := newTestManager(t, path, r)
	defer stop2()
	if info, err := m2.Get("rs-1"); err != nil || info.State != StateSucceeded || info.Kind != KindResyncUpload {
		t.Fatalf("after restart: %+v, %v", info, err)
	}
	if r.runs != 1 {
		t.Fatalf("ran %d times, want once", r.runs)
	}
}

func TestManager_StartResyncUpload_rejectsBadRanges(t *testing.T) {
	m, stop := newTestManager(t, filepath.Join(t.TempDir(), "jobs.db"), &fakeRunner{})
	defer stop()
	tests := []struct {
		name   string
		ranges []Range
	}{
		{"unaligned", []Range{{Offset: 100, Length: 512}}},
		{"empty", []Range{{Offset: 0, Length: 0}}},
		{"overlapping", []Range{{Offset: 0, Length: 4096}, {Offset: 2048, Length: 4096}}},
		{"unsorted", []Range{{Offset: 8192, Length: 512}, {Offset: 0, Length: 512}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := resyncSpec("x")
			spec.Ranges = tt.ranges
			if _, err := m.StartResyncUpload("bad-"+tt.name, spec); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}
