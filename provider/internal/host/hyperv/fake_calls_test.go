package hyperv

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The fake's methods that change the host or read jobs and logs.

func (f *fakeHost) createSnapshot(ctx context.Context, vmID string, typ uint16) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("createSnapshot")
	vm, verr := f.vm(vmID)
	if err != nil || !apply || verr != nil || typ != snapshotTypeRecovery {
		return res, err
	}
	f.seq++
	id := fmt.Sprintf("snap-%d", f.seq)
	vm.Snapshots = append(vm.Snapshots, snapshotRecord{Path: "path:" + id, InstanceID: id,
		Name: vm.Name + " - recovery", Type: vsTypeRecovery, Created: time.Unix(int64(f.seq), 0)})
	for i, d := range vm.Disks {
		child := strings.TrimSuffix(d.Path, ".vhdx") + "_" + id + ".avhdx"
		f.vhds[samePathKey(child)] = vhdRecord{Path: child, ParentPath: d.Path, Format: formatVHDX, Type: 4,
			MaxInternalSize: f.vhds[samePathKey(d.Path)].MaxInternalSize, LogicalSectorSize: 512,
			VirtualDiskID: "child-" + id}
		vm.Disks[i].Path = child
	}
	return res, nil
}

func (f *fakeHost) renameSnapshot(ctx context.Context, path, name string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("renameSnapshot")
	if err != nil || !apply {
		return res, err
	}
	for _, vm := range f.vms {
		for i := range vm.Snapshots {
			if vm.Snapshots[i].Path == path {
				vm.Snapshots[i].Name = name
			}
		}
	}
	return res, nil
}

func (f *fakeHost) destroySnapshot(ctx context.Context, path string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("destroySnapshot")
	if err != nil || !apply {
		return res, err
	}
	for _, vm := range f.vms {
		for i, s := range vm.Snapshots {
			if s.Path != path {
				continue
			}
			vm.Snapshots = append(vm.Snapshots[:i], vm.Snapshots[i+1:]...)
			for j, d := range vm.Disks {
				if p := f.vhds[samePathKey(d.Path)].ParentPath; p != "" {
					vm.Disks[j].Path = p
				}
			}
			return res, nil
		}
	}
	return callResult{Code: codeInvalidParam}, nil
}

func (f *fakeHost) requestStateChange(ctx context.Context, vmID string, state uint16) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("requestStateChange")
	if vm, verr := f.vm(vmID); err == nil && apply && verr == nil {
		vm.EnabledState = state
	}
	return res, err
}

func (f *fakeHost) initiateShutdown(ctx context.Context, vmID string, force bool, reason string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("initiateShutdown")
	if err == nil && apply {
		f.pendOff[vmID] = f.offAfter
	}
	return res, err
}

func (f *fakeHost) createRelationship(ctx context.Context, vmID string, s trackingSettings) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("createRelationship")
	if vm, verr := f.vm(vmID); err == nil && apply && verr == nil {
		vm.Replication = replicationRecord{Mode: 1, State: replReady, Health: 1}
	}
	return res, err
}

func (f *fakeHost) startReplication(ctx context.Context, vmID string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("startReplication")
	vm, verr := f.vm(vmID)
	if err != nil || !apply || verr != nil {
		return res, err
	}
	vm.Replication.State = replReplicating
	for _, d := range vm.Disks {
		key := fakeLogKey(f.basePath(d.Path))
		f.seq++
		f.logs[key] = append(f.logs[key], logFile{Path: fmt.Sprintf("%s-%d.hrl", key, f.seq), ID: fmt.Sprintf("log-%d", f.seq)})
	}
	return res, nil
}

func (f *fakeHost) removeRelationship(ctx context.Context, vmID string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("removeRelationship")
	if vm, verr := f.vm(vmID); err == nil && apply && verr == nil {
		vm.Replication = replicationRecord{}
	}
	return res, err
}

func (f *fakeHost) resynchronize(ctx context.Context, vmID string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("resynchronize")
	if vm, verr := f.vm(vmID); err == nil && apply && verr == nil {
		vm.Replication.State, vm.Replication.Health = replReplicating, 1
	}
	return res, err
}

// switchLog closes each disk's open log and opens the next one.
func (f *fakeHost) switchLog(ctx context.Context, vmID string) (callResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	res, apply, err := f.step("switchLog")
	vm, verr := f.vm(vmID)
	if err != nil || !apply || verr != nil || f.noSwitch {
		return res, err
	}
	for _, d := range vm.Disks {
		f.rotate(fakeLogKey(f.basePath(d.Path)))
	}
	return res, nil
}

func (f *fakeHost) rotate(key string) {
	logs := f.logs[key]
	prev := ""
	for i := range logs {
		if !logs[i].Closed {
			logs[i].Closed = true
			prev = logs[i].ID
		}
	}
	f.seq++
	f.logs[key] = append(logs, logFile{Path: fmt.Sprintf("%s-%d.hrl", key, f.seq), ID: fmt.Sprintf("log-%d", f.seq), Prev: prev})
}

func (f *fakeHost) jobStatus(ctx context.Context, path string) (jobRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["jobStatus"]++
	if s := f.script["jobStatus"]; len(s) > 0 {
		f.script["jobStatus"] = s[1:]
		return jobRecord{}, s[0].err
	}
	readings, ok := f.jobs[path]
	if !ok {
		return jobRecord{}, fmt.Errorf("no job %s", path)
	}
	r := readings[0]
	if len(readings) > 1 {
		f.jobs[path] = readings[1:]
	}
	return r, nil
}

func (f *fakeHost) listLogs(ctx context.Context, dir, stem string) ([]logFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["listLogs"]++
	return append([]logFile(nil), f.logs[dir+"|"+stem]...), nil
}

func (f *fakeHost) removeFile(ctx context.Context, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, path)
	for k, logs := range f.logs {
		for i, l := range logs {
			if l.Path == path {
				f.logs[k] = append(logs[:i], logs[i+1:]...)
				break
			}
		}
	}
	return nil
}
