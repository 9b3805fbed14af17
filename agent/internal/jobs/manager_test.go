package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/upload"
	"hvmigrate/shared/secret"
)

// fakeRunner runs each copy until released, recording the SAS it got.
type fakeRunner struct {
	mu      sync.Mutex
	release chan struct{}
	fail    error
	targets []string
	runs    int
}

func (r *fakeRunner) RunInitialCopy(ctx context.Context, spec InitialCopy, j *jobstore.Journal, p *upload.Progress) error {
	r.mu.Lock()
	r.runs++
	r.targets = append(r.targets, spec.Target.Reveal())
	release, fail := r.release, r.fail
	r.mu.Unlock()
	p.Total.Store(100)
	p.Done.Store(40)
	if err := j.MarkChunk(int64(r.runs)); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-release:
		p.Done.Store(100)
		return fail
	}
}

func (r *fakeRunner) RunCycleUpload(ctx context.Context, spec CycleUpload, j *jobstore.Journal, p *upload.Progress) error {
	return nil
}

func (r *fakeRunner) RunResyncUpload(ctx context.Context, spec ResyncUpload, j *jobstore.Journal, p *upload.Progress) error {
	r.mu.Lock()
	r.runs++
	r.targets = append(r.targets, spec.Target.Reveal())
	fail := r.fail
	r.mu.Unlock()
	return fail
}

func newTestManager(t *testing.T, path string, r Runner) (*Manager, context.CancelFunc) {
	t.Helper()
	store, err := jobstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewManager(ctx, store, r, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	stop := func() { cancel(); m.Wait(); store.Close() }
	return m, stop
}

func copySpec(sig string) InitialCopy {
	return InitialCopy{VMID: "vm1", DiskID: "d1", DiskPath: "/x.vhdx", Target: secret.New("https://a/c/b?sig=" + sig), Threads: 4}
}

func waitState(t *testing.T, m *Manager, id string, want State) Info {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := m.Get(id)
		if err == nil && info.State == want {
			return info
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: state %v (err %v), want %v", id, info.State, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestManager_Start_idempotentAndConflict(t *testing.T) {
	r := &fakeRunner{release: make(chan struct{})}
	m, stop := newTestManager(t, filepath.Join(t.TempDir(), "a.db"), r)
	defer stop()
	if _, err := m.StartInitialCopy("j1", copySpec("one")); err != nil {
		t.Fatal(err)
	}
	// Same work with a renewed SAS: the same job.
	if info, err := m.StartInitialCopy("j1", copySpec("two")); err != nil || info.ID != "j1" {
		t.Fatalf("restart same work: %v %v", info, err)
	}
	other := copySpec("one")
	other.DiskPath = "/other.vhdx"
	if _, err := m.StartInitialCopy("j1", other); !errors.Is(err, ErrConflict) {
		t.Fatalf("different work under the same id: err = %v", err)
	}
	close(r.release)
	waitState(t, m, "j1", StateSucceeded)
	if r.runs != 1 {
		t.Fatalf("runner ran %d times, want 1", r.runs)
	}
}

func TestManager_failedJobRestartsWithNewSAS(t *testing.T) {
	r := &fakeRunner{release: make(chan struct{}), fail: errors.New("storage said no")}
	close(r.release)
	m, stop := newTestManager(t, filepath.Join(t.TempDir(), "a.db"), r)
	defer stop()
	m.StartInitialCopy("j1", copySpec("old"))
	info := waitState(t, m, "j1", StateFailed)
	if info.Err == nil || info.Err.Error() != "storage said no" {
		t.Fatalf("err = %v", info.Err)
	}
	r.mu.Lock()
	r.fail = nil
	r.mu.Unlock()
	m.StartInitialCopy("j1", copySpec("new"))
	waitState(t, m, "j1", StateSucceeded)
	if got := r.targets[len(r.targets)-1]; got != "https://a/c/b?sig=new" {
		t.Fatalf("restarted with %q, want the renewed SAS", got)
	}
}

func TestManager_resumesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	r := &fakeRunner{release: make(chan struct{})}
	m, stop := newTestManager(t, path, r)
	m.StartInitialCopy("j1", copySpec("one"))
	waitState(t, m, "j1", StateRunning)
	stop() // the agent stops while the job runs

	r2 := &fakeRunner{release: make(chan struct{})}
	m2, stop2 := newTestManager(t, path, r2)
	defer stop2()
	info := waitState(t, m2, "j1", StateRunning)
	if info.Kind != KindInitialCopy || info.VMID != "vm1" {
		t.Fatalf("resumed job %+v", info)
	}
	close(r2.release)
	waitState(t, m2, "j1", StateSucceeded)
	if r2.runs != 1 || r2.targets[0] != "https://a/c/b?sig=one" {
		t.Fatalf("resumed run: %d runs, targets %v", r2.runs, r2.targets)
	}
}

func TestManager_CancelAndWatch(t *testing.T) {
	r := &fakeRunner{release: make(chan struct{})}
	m, stop := newTestManager(t, filepath.Join(t.TempDir(), "a.db"), r)
	defer stop()
	m.StartInitialCopy("j1", copySpec("one"))
	var seen []State
	done := make(chan error, 1)
	go func() {
		done <- m.Watch(context.Background(), "j1", 10*time.Millisecond, func(i Info) error {
			seen = append(seen, i.State)
			return nil
		})
	}()
	waitState(t, m, "j1", StateRunning)
	if _, err := m.Cancel("j1"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last := seen[len(seen)-1]; last != StateCancelled {
		t.Fatalf("watch ended with %v, want cancelled (saw %v)", last, seen)
	}
	if _, err := m.Cancel("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel unknown: %v", err)
	}
	if n := len(m.List("vm1")); n != 1 || len(m.List("vm2")) != 0 {
		t.Fatalf("List: %d jobs for vm1", n)
	}
}
