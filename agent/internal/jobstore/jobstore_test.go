package jobstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "agent.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestOpen_modes(t *testing.T) {
	s, path := openTemp(t)
	s.Close()
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func TestStore_jobs_surviveReopen(t *testing.T) {
	s, path := openTemp(t)
	now := time.Now().UTC().Truncate(time.Second)
	a := Job{ID: "a", Kind: "initial_copy", VMID: "vm1", State: "running", Params: json.RawMessage(`{"x":1}`), Created: now, Updated: now}
	b := Job{ID: "b", Kind: "cycle_upload", VMID: "vm1", Cycle: 7, State: "queued", Params: json.RawMessage(`{}`), Created: now, Updated: now}
	for _, j := range []Job{b, a} {
		if err := s.PutJob(j); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	jobs, err := s.Jobs()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jobs, []Job{a, b}) {
		t.Fatalf("jobs = %+v", jobs)
	}
	if err := s.DeleteJob("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Job("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted job: err = %v", err)
	}
}

func TestJournal_marksSurviveReopen(t *testing.T) {
	s, path := openTemp(t)
	j := s.Journal("copy1")
	if size, done, footer, err := j.Load(); err != nil || size != 0 || len(done) != 0 || footer {
		t.Fatalf("new journal: %d %v %v %v", size, done, footer, err)
	}
	if err := j.Begin(4 << 20); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int64{0, 5, 1 << 40} {
		if err := j.MarkChunk(i); err != nil {
			t.Fatal(err)
		}
	}
	j.MarkBlock(1, 2, 99)
	j.MarkBlock(1, 3, 98)
	j.MarkBlock(2, 0, 97)
	s.Close()

	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j = s.Journal("copy1")
	size, done, footer, err := j.Load()
	if err != nil || size != 4<<20 || footer || !reflect.DeepEqual(done, map[int64]bool{0: true, 5: true, 1 << 40: true}) {
		t.Fatalf("reopened: %d %v %v %v", size, done, footer, err)
	}
	blocks, err := j.Blocks(1)
	if err != nil || !reflect.DeepEqual(blocks, map[int]uint64{2: 99, 3: 98}) {
		t.Fatalf("blocks of disk 1 = %v, %v", blocks, err)
	}
	if blocks, _ := j.Blocks(0); len(blocks) != 0 {
		t.Fatalf("blocks of disk 0 = %v", blocks)
	}
	j.MarkFooter()
	if _, _, footer, _ := j.Load(); !footer {
		t.Fatal("footer mark lost")
	}
	// Begin again starts afresh.
	j.Begin(1 << 20)
	if size, done, footer, _ := j.Load(); size != 1<<20 || len(done) != 0 || footer {
		t.Fatalf("after Begin: %d %v %v", size, done, footer)
	}
}

func TestStore_settings(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	var v struct{ Limit int }
	if found, err := s.GetSetting("throttle", &v); found || err != nil {
		t.Fatalf("unset: %v %v", found, err)
	}
	s.PutSetting("throttle", struct{ Limit int }{42})
	if found, err := s.GetSetting("throttle", &v); !found || err != nil || v.Limit != 42 {
		t.Fatalf("got %v %v %v", v, found, err)
	}
}
