package hyperv

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// outcome scripts one call of a fake method.
type outcome struct {
	err  error       // returned instead of a result
	code uint32      // ReturnValue; 0 with job == nil means completed
	job  []jobRecord // readings of the job (last one repeats); nil: none
}

// fakeHost is an in-memory Hyper-V host: VMs, disk chains, snapshots,
// replication state and log files, with scripted failures.
type fakeHost struct {
	mu       sync.Mutex
	vms      map[string]*vmRecord
	vhds     map[string]vhdRecord // by samePathKey
	logs     map[string][]logFile // by log dir + "|" + stem
	jobs     map[string][]jobRecord
	script   map[string][]outcome // by method name, consumed in order
	calls    map[string]int
	order    []string // methods that change the host, in call order
	seq      int
	removed  []string
	offAfter int // queryVM reads after a shutdown request until off; <0 never
	pendOff  map[string]int
	noSwitch bool            // switchLog closes no logs
	locked   map[string]bool // files whose header cannot be read
}

func newFakeHost() *fakeHost {
	return &fakeHost{
		vms: map[string]*vmRecord{}, vhds: map[string]vhdRecord{}, logs: map[string][]logFile{},
		jobs: map[string][]jobRecord{}, script: map[string][]outcome{}, calls: map[string]int{},
		pendOff: map[string]int{}, locked: map[string]bool{},
	}
}

// addVM adds a running VM whose disks are base VHDX files at paths.
func (f *fakeHost) addVM(id string, paths ...string) *vmRecord {
	vm := &vmRecord{ID: id, Name: "vm-" + id, EnabledState: stateEnabled, SubType: "Microsoft:Hyper-V:SubType:2",
		CPUs: 2, MemoryMB: 4096, NICs: []nicRecord{{Name: "nic0", Address: "00155d0a0b0c", SwitchName: "external"}}}
	for i, p := range paths {
		vm.Disks = append(vm.Disks, diskRecord{Path: p, SubType: subTypeVHD})
		f.vhds[samePathKey(p)] = vhdRecord{Path: p, Format: formatVHDX, Type: 3, MaxInternalSize: int64(i+1) << 30,
			LogicalSectorSize: 512, VirtualDiskID: fmt.Sprintf("{AAAAAAAA-0000-0000-0000-%012d}", i+1)}
	}
	f.vms[id] = vm
	return vm
}

func (f *fakeHost) on(method string, o ...outcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[method] = append(f.script[method], o...)
}

func (f *fakeHost) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

// step consumes the next scripted outcome (default: a job that runs then
// completes) and reports whether the call's effect happens.
func (f *fakeHost) step(method string) (callResult, bool, error) {
	f.calls[method]++
	f.order = append(f.order, method)
	o := outcome{code: codeJobStarted, job: []jobRecord{{State: jobRunning, Percent: 50}, {State: jobCompleted}}}
	if s := f.script[method]; len(s) > 0 {
		o, f.script[method] = s[0], s[1:]
	}
	if o.err != nil {
		return callResult{}, false, o.err
	}
	if o.code == codeCompleted {
		return callResult{Code: 0}, true, nil
	}
	if o.code != codeJobStarted {
		return callResult{Code: o.code}, false, nil
	}
	f.seq++
	path := fmt.Sprintf(`\\host\root\virtualization\v2:Msvm_ConcreteJob.InstanceID="job-%d"`, f.seq)
	f.jobs[path] = o.job
	last := o.job[len(o.job)-1]
	return callResult{Code: codeJobStarted, Job: path}, last.State == jobCompleted && last.ErrorCode == 0, nil
}

func (f *fakeHost) vm(id string) (*vmRecord, error) {
	vm, ok := f.vms[id]
	if !ok {
		return nil, fmt.Errorf("query %s: %w", id, errNoSuchVM)
	}
	return vm, nil
}

func copyVM(vm *vmRecord) vmRecord {
	c := *vm
	c.Disks = append([]diskRecord(nil), vm.Disks...)
	c.Snapshots = append([]snapshotRecord(nil), vm.Snapshots...)
	return c
}

func (f *fakeHost) queryVMs(ctx context.Context) ([]vmRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, _, err := f.step("queryVMs"); err != nil {
		return nil, err
	}
	var out []vmRecord
	for _, vm := range f.vms {
		out = append(out, copyVM(vm))
	}
	return out, nil
}

func (f *fakeHost) queryVM(ctx context.Context, id string) (vmRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["queryVM"]++
	if s := f.script["queryVM"]; len(s) > 0 {
		f.script["queryVM"] = s[1:]
		return vmRecord{}, s[0].err
	}
	vm, err := f.vm(id)
	if err != nil {
		return vmRecord{}, err
	}
	if n, ok := f.pendOff[id]; ok {
		if n == 0 {
			vm.EnabledState = stateDisabled
			delete(f.pendOff, id)
		} else if n > 0 {
			f.pendOff[id] = n - 1
		}
	}
	return copyVM(vm), nil
}

func (f *fakeHost) vhdSettings(ctx context.Context, path string) (vhdRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["vhdSettings"]++
	r, ok := f.vhds[samePathKey(path)]
	if !ok {
		return vhdRecord{}, fmt.Errorf("get settings of %s: %w", path, &codeError{Op: "GetVirtualHardDiskSettingData", Code: codeFileNotFound})
	}
	return r, nil
}

func (f *fakeHost) dataWriteGUID(ctx context.Context, path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locked[samePathKey(path)] {
		return "", fmt.Errorf("open %s: sharing violation", path)
	}
	return "{" + strings.ToUpper(fmt.Sprintf("%08x-1111-2222-3333-444455556666", len(path))) + "}", nil
}

// basePath follows parents to the base file.
func (f *fakeHost) basePath(p string) string {
	for {
		parent := f.vhds[samePathKey(p)].ParentPath
		if parent == "" {
			return p
		}
		p = parent
	}
}

// fakeLogKey is where the tests expect Hyper-V Replica's logs of a base
// disk `C:\dir\name.vhdx`: folder `C:\dir\Hyper-V Replica`, prefix `name`.
func fakeLogKey(base string) string {
	i := strings.LastIndex(base, `\`)
	return base[:i] + `\Hyper-V Replica|` + strings.TrimSuffix(base[i+1:], ".vhdx")
}

// testConfig is DefaultConfig with waits short enough for tests.
func testConfig() Config {
	c := DefaultConfig()
	c.ReplicationProvider = "{11111111-2222-3333-4444-555555555555}"
	c.PollInterval = time.Millisecond
	c.JobTimeout = 200 * time.Millisecond
	c.MergeTimeout = 200 * time.Millisecond
	c.SwitchTimeout = 50 * time.Millisecond
	c.ShutdownTimeout = 50 * time.Millisecond
	c.ForceGrace = 20 * time.Millisecond
	c.TurnOffTimeout = 50 * time.Millisecond
	c.RetryDelay = time.Millisecond
	return c
}

func newTestBackend(t *testing.T, f *fakeHost, mutate ...func(*Config)) *Backend {
	t.Helper()
	cfg := testConfig()
	for _, m := range mutate {
		m(&cfg)
	}
	logger := hclog.New(&hclog.LoggerOptions{Output: testWriter{t}, Level: hclog.Debug})
	b, err := newBackend(f, cfg, logger)
	if err != nil {
		t.Fatalf("newBackend: %v", err)
	}
	return b
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
