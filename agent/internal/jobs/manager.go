// Package jobs runs the agent's transfer jobs: it records each job durably
// before it starts, resumes unfinished jobs when the agent restarts, lets
// any number of callers watch a job, and keeps jobs running when the
// provider that started them goes away.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"hvmigrate/agent/internal/jobstore"
	"hvmigrate/agent/internal/upload"
)

var (
	// ErrNotFound means no job has the id.
	ErrNotFound = errors.New("job not found")
	// ErrConflict means a job id was reused for different work.
	ErrConflict = errors.New("job id already used for different work")
	// ErrInvalid means a job's parameters are unusable.
	ErrInvalid = errors.New("invalid job")
	// ErrStopping means the agent is shutting down; jobs resume when it
	// starts again.
	ErrStopping = errors.New("agent is stopping")
	// ErrSourceMissing means a disk or log to read does not exist.
	ErrSourceMissing = errors.New("source missing")
	// ErrSourceCorrupt means a disk or log failed validation, or a log is
	// not closed: the provider must resync rather than retry.
	ErrSourceCorrupt = errors.New("source corrupt")
)

// Runner does the work of a job. Implementations use the journal to resume
// and count into the progress.
type Runner interface {
	RunInitialCopy(ctx context.Context, spec InitialCopy, j *jobstore.Journal, p *upload.Progress) error
	RunCycleUpload(ctx context.Context, spec CycleUpload, j *jobstore.Journal, p *upload.Progress) error
	RunResyncUpload(ctx context.Context, spec ResyncUpload, j *jobstore.Journal, p *upload.Progress) error
}

// Info is a job as callers see it.
type Info struct {
	ID       string
	Kind     Kind
	State    State
	VMID     string
	Cycle    uint64
	Progress upload.Snapshot
	Err      error // why it failed; nil otherwise
	Started  time.Time
	Updated  time.Time
}

// Manager owns every job of the agent.
type Manager struct {
	store  *jobstore.Store
	runner Runner
	log    hclog.Logger
	ctx    context.Context // ends when the agent stops

	mu   sync.Mutex
	jobs map[string]*job
	wg   sync.WaitGroup
}

// job is the live state of one job.
type job struct {
	rec     jobstore.Job
	prog    *upload.Progress
	err     error
	cancel  context.CancelFunc
	changed chan struct{} // closed and replaced on every state change
}

// NewManager loads the known jobs and resumes the unfinished ones. Jobs run
// until ctx ends.
func NewManager(ctx context.Context, store *jobstore.Store, runner Runner, log hclog.Logger) (*Manager, error) {
	m := &Manager{store: store, runner: runner, log: log, ctx: ctx, jobs: map[string]*job{}}
	recs, err := store.Jobs()
	if err != nil {
		return nil, fmt.Errorf("load jobs: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, rec := range recs {
		j := &job{rec: rec, prog: &upload.Progress{}, changed: make(chan struct{})}
		restoreProgress(j)
		if rec.Error != "" {
			j.err = errors.New(rec.Error)
		}
		m.jobs[rec.ID] = j
		if !State(rec.State).Final() {
			m.log.Info("resuming job", "job_id", rec.ID, "kind", rec.Kind, "vm_id", rec.VMID)
			m.startLocked(j)
		}
	}
	return m, nil
}

// StartInitialCopy starts a copy, or returns the job already known by id.
func (m *Manager) StartInitialCopy(id string, spec InitialCopy) (Info, error) {
	if spec.DiskPath == "" || spec.Target.IsZero() {
		return Info{}, fmt.Errorf("%w: initial copy needs a disk path and a target URL", ErrInvalid)
	}
	params, err := spec.encode()
	if err != nil {
		return Info{}, err
	}
	return m.start(jobstore.Job{ID: id, Kind: string(KindInitialCopy), VMID: spec.VMID, Params: params})
}

// StartCycleUpload starts a cycle upload, or returns the job already known.
func (m *Manager) StartCycleUpload(id string, spec CycleUpload) (Info, error) {
	if len(spec.Disks) == 0 {
		return Info{}, fmt.Errorf("%w: cycle %d of VM %s has no disks", ErrInvalid, spec.Cycle, spec.VMID)
	}
	params, err := spec.encode()
	if err != nil {
		return Info{}, err
	}
	return m.start(jobstore.Job{ID: id, Kind: string(KindCycleUpload), VMID: spec.VMID, Cycle: spec.Cycle, Params: params})
}

// start records a new job and runs it; a known id with the same work is
// returned as it is (restarted if it failed or was cancelled, with the
// newest SAS).
func (m *Manager) start(rec jobstore.Job) (Info, error) {
	if rec.ID == "" {
		return Info{}, fmt.Errorf("%w: empty job id", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if j, ok := m.jobs[rec.ID]; ok {
		if j.rec.Kind != rec.Kind || !sameWork(Kind(rec.Kind), j.rec.Params, rec.Params) {
			return Info{}, fmt.Errorf("%w: %s", ErrConflict, rec.ID)
		}
		if s := State(j.rec.State); s == StateFailed || s == StateCancelled {
			j.rec.Params = rec.Params
			if err := m.startLocked(j); err != nil {
				return Info{}, err
			}
		}
		return m.infoLocked(j), nil
	}
	now := time.Now().UTC()
	rec.State, rec.Created, rec.Updated = string(StateQueued), now, now
	if err := m.store.PutJob(rec); err != nil {
		return Info{}, fmt.Errorf("record job %s: %w", rec.ID, err)
	}
	j := &job{rec: rec, prog: &upload.Progress{}, changed: make(chan struct{})}
	m.jobs[rec.ID] = j
	if err := m.startLocked(j); err != nil {
		return Info{}, err
	}
	return m.infoLocked(j), nil
}

// startLocked marks the job running durably, then runs it.
func (m *Manager) startLocked(j *job) error {
	j.err = nil
	j.rec.Error, j.rec.Reason = "", ""
	// The run recounts everything from the journal, so it starts from zero.
	j.prog = &upload.Progress{}
	if err := m.setStateLocked(j, StateRunning); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(m.ctx)
	j.cancel = cancel
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer cancel()
		err := m.run(ctx, j)
		m.finish(j, err)
	}()
	return nil
}

func (m *Manager) run(ctx context.Context, j *job) error {
	m.mu.Lock()
	prog := j.prog
	m.mu.Unlock()
	journal := m.store.Journal(j.rec.ID)
	stop := m.saveProgressEvery(ctx, j, 5*time.Second)
	defer stop()
	switch Kind(j.rec.Kind) {
	case KindInitialCopy:
		spec, err := decodeCopy(j.rec.Params)
		if err != nil {
			return err
		}
		return m.runner.RunInitialCopy(ctx, spec, journal, prog)
	case KindCycleUpload:
		spec, err := decodeCycle(j.rec.Params)
		if err != nil {
			return err
		}
		return m.runner.RunCycleUpload(ctx, spec, journal, prog)
	case KindResyncUpload:
		spec, err := decodeResync(j.rec.Params)
		if err != nil {
			return err
		}
		return m.runner.RunResyncUpload(ctx, spec, journal, prog)
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrInvalid, j.rec.Kind)
	}
}

// finish records how the job ended. A job stopped because the agent is
// shutting down stays running in the store, so the next start resumes it.
func (m *Manager) finish(j *job, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	state := StateSucceeded
	switch {
	case err == nil:
	case m.ctx.Err() != nil:
		m.log.Info("job paused for shutdown", "job_id", j.rec.ID)
		m.saveProgressLocked(j)
		return
	case errors.Is(err, context.Canceled):
		state = StateCancelled
	default:
		state = StateFailed
		j.err = err
		j.rec.Error = err.Error()
	}
	m.saveProgressLocked(j)
	if serr := m.setStateLocked(j, state); serr != nil {
		m.log.Error("record job end", "job_id", j.rec.ID, "error", serr)
	}
	m.log.Info("job ended", "job_id", j.rec.ID, "state", state, "error", err)
}

// setStateLocked changes the state durably and wakes watchers.
func (m *Manager) setStateLocked(j *job, s State) error {
	j.rec.State = string(s)
	j.rec.Updated = time.Now().UTC()
	if err := m.store.PutJob(j.rec); err != nil {
		return fmt.Errorf("record job %s as %s: %w", j.rec.ID, s, err)
	}
	close(j.changed)
	j.changed = make(chan struct{})
	return nil
}

// Cancel stops a running job. Its journal is kept, so starting it again
// resumes.
func (m *Manager) Cancel(id string) (Info, error) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	m.mu.Unlock()
	if !ok {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if j.cancel != nil {
		j.cancel()
	}
	return m.Get(id)
}

// Get returns one job.
func (m *Manager) Get(id string) (Info, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return m.infoLocked(j), nil
}

// List returns the jobs of vmID (all jobs when empty), oldest first.
func (m *Manager) List(vmID string) []Info {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Info
	for _, j := range m.jobs {
		if vmID == "" || j.rec.VMID == vmID {
			out = append(out, m.infoLocked(j))
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].Started.Equal(out[b].Started) {
			return out[a].Started.Before(out[b].Started)
		}
		return out[a].ID < out[b].ID
	})
	return out
}

// ActiveJobs counts the jobs that are running.
func (m *Manager) ActiveJobs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, j := range m.jobs {
		if !State(j.rec.State).Final() {
			n++
		}
	}
	return n
}

// Watch calls send with the job's state now, at every change, and every
// interval while it runs, until the job ends (after sending the final
// state), ctx ends, or send fails.
func (m *Manager) Watch(ctx context.Context, id string, interval time.Duration, send func(Info) error) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		m.mu.Lock()
		j, ok := m.jobs[id]
		if !ok {
			m.mu.Unlock()
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		info, changed := m.infoLocked(j), j.changed
		m.mu.Unlock()
		if err := send(info); err != nil {
			return err
		}
		if info.State.Final() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-m.ctx.Done():
			return ErrStopping
		case <-changed:
		case <-tick.C:
		}
	}
}

// Wait blocks until every running job has returned; call it after the
// context given to NewManager has ended.
func (m *Manager) Wait() { m.wg.Wait() }

func (m *Manager) infoLocked(j *job) Info {
	return Info{
		ID: j.rec.ID, Kind: Kind(j.rec.Kind), State: State(j.rec.State), VMID: j.rec.VMID, Cycle: j.rec.Cycle,
		Progress: j.prog.Snapshot(time.Now()), Err: j.err, Started: j.rec.Created, Updated: j.rec.Updated,
	}
}

// saveProgressEvery saves the counters periodically so ListJobs after a
// restart shows where each job stood; the journal, not these counters,
// decides what is resent.
func (m *Manager) saveProgressEvery(ctx context.Context, j *job, d time.Duration) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				m.mu.Lock()
				m.saveProgressLocked(j)
				m.mu.Unlock()
			}
		}
	}()
	return func() { close(done) }
}

func (m *Manager) saveProgressLocked(j *job) {
	b, err := json.Marshal(j.prog.Snapshot(time.Now()))
	if err != nil {
		return
	}
	j.rec.Progress = b
	if err := m.store.PutJob(j.rec); err != nil {
		m.log.Warn("save job progress", "job_id", j.rec.ID, "error", err)
	}
}

// restoreProgress loads the saved counters into a fresh Progress.
func restoreProgress(j *job) {
	var s upload.Snapshot
	if len(j.rec.Progress) == 0 || json.Unmarshal(j.rec.Progress, &s) != nil {
		return
	}
	j.prog.Total.Store(s.Total)
	j.prog.Done.Store(s.Done)
	j.prog.Skipped.Store(s.Skipped)
	j.prog.Sent.Store(s.Sent)
	j.prog.SavedCoalescing.Store(s.SavedCoalescing)
	j.prog.SavedCompression.Store(s.SavedCompression)
	j.prog.Retries.Store(s.Retries)
}
