//go:build windows

package hyperv

import (
	"context"
	"fmt"

	cim "github.com/microsoft/wmi/pkg/wmiinstance"

	"hvmigrate/provider/internal/host"
)

// Snapshot settings: crash-consistent, and fail rather than skip a disk
// that cannot be snapshotted.
const consistencyCrash uint8 = 2

// initialReplicationNetwork is StartReplication's "network transfer".
const initialReplicationNetwork uint16 = 1

// onVM runs a method of a service with the VM's path as one input.
func (c *wmiConn) onVM(ctx context.Context, vmID, class, method, vmParam string, more ...param) (callResult, error) {
	var res callResult
	err := c.do(ctx, method+" "+vmID, func(s *cim.WmiSession) error {
		vm, err := vmInstance(s, vmID)
		if err != nil {
			return err
		}
		defer vm.Close()
		svc, err := service(s, class)
		if err != nil {
			return err
		}
		defer svc.Close()
		in := append([]param{{vmParam, vm.InstancePath()}}, more...)
		res, _, err = exec(svc, method, in, "Job")
		return err
	})
	return res, err
}

func (c *wmiConn) createSnapshot(ctx context.Context, vmID string, snapshotType uint16) (callResult, error) {
	var settings string
	err := c.do(ctx, "snapshot settings", func(s *cim.WmiSession) error {
		var err error
		settings, err = embedded(s, "Msvm_VirtualSystemSnapshotSettingData", []param{
			{"ConsistencyLevel", consistencyCrash}, {"IgnoreNonSnapshottableDisks", false},
		})
		return err
	})
	if err != nil {
		return callResult{}, err
	}
	return c.onVM(ctx, vmID, "Msvm_VirtualSystemSnapshotService", "CreateSnapshot", "AffectedSystem",
		param{"SnapshotSettings", settings}, param{"SnapshotType", snapshotType})
}

func (c *wmiConn) renameSnapshot(ctx context.Context, snapshotPath, name string) (callResult, error) {
	var res callResult
	err := c.do(ctx, "rename snapshot", func(s *cim.WmiSession) error {
		snap, err := s.GetInstance(snapshotPath)
		if err != nil {
			return comErr("get snapshot", err)
		}
		defer snap.Close()
		if err := snap.SetProperty("ElementName", name); err != nil {
			return comErr("set snapshot name", err)
		}
		text, err := snap.EmbeddedXMLInstance()
		if err != nil {
			return comErr("encode snapshot settings", err)
		}
		vsms, err := service(s, "Msvm_VirtualSystemManagementService")
		if err != nil {
			return err
		}
		defer vsms.Close()
		res, _, err = exec(vsms, "ModifySystemSettings", []param{{"SystemSettings", text}}, "Job")
		return err
	})
	return res, err
}

func (c *wmiConn) destroySnapshot(ctx context.Context, snapshotPath string) (callResult, error) {
	var res callResult
	err := c.do(ctx, "destroy snapshot", func(s *cim.WmiSession) error {
		svc, err := service(s, "Msvm_VirtualSystemSnapshotService")
		if err != nil {
			return err
		}
		defer svc.Close()
		res, _, err = exec(svc, "DestroySnapshot", []param{{"AffectedSnapshot", snapshotPath}}, "Job")
		return err
	})
	return res, err
}

func (c *wmiConn) requestStateChange(ctx context.Context, vmID string, state uint16) (callResult, error) {
	var res callResult
	err := c.do(ctx, "RequestStateChange "+vmID, func(s *cim.WmiSession) error {
		vm, err := vmInstance(s, vmID)
		if err != nil {
			return err
		}
		defer vm.Close()
		res, _, err = exec(vm, "RequestStateChange", []param{{"RequestedState", state}}, "Job")
		return err
	})
	return res, err
}

// initiateShutdown uses the VM's shutdown integration component, which
// exists (and is enabled) only while the guest's service runs.
func (c *wmiConn) initiateShutdown(ctx context.Context, vmID string, force bool, reason string) (callResult, error) {
	var res callResult
	err := c.do(ctx, "InitiateShutdown "+vmID, func(s *cim.WmiSession) error {
		comp, err := queryFirst(s, "SELECT * FROM Msvm_ShutdownComponent WHERE SystemName = "+wqlQuote(vmID))
		if err != nil {
			return err
		}
		if comp == nil {
			return fmt.Errorf("vm %s: %w", vmID, errNoShutdownComponent)
		}
		defer comp.Close()
		if propInt(comp, "EnabledState") != int64(stateEnabled) {
			return fmt.Errorf("vm %s: shutdown component in state %d: %w", vmID, propInt(comp, "EnabledState"), errNoShutdownComponent)
		}
		res, _, err = exec(comp, "InitiateShutdown", []param{{"Force", force}, {"Reason", reason}})
		return err
	})
	return res, err
}

func (c *wmiConn) createRelationship(ctx context.Context, vmID string, ts trackingSettings) (callResult, error) {
	var settings string
	err := c.do(ctx, "replication settings "+vmID, func(s *cim.WmiSession) error {
		provider, err := queryFirst(s, "SELECT * FROM Msvm_ReplicationProvider WHERE Name = "+wqlQuote(ts.Provider))
		if err != nil {
			return err
		}
		if provider == nil {
			return fmt.Errorf("replication provider %s is not registered: %w", ts.Provider, host.ErrUnsupported)
		}
		defer provider.Close()
		disks, err := diskSettingPaths(s, vmID, ts.DiskPaths)
		if err != nil {
			return err
		}
		settings, err = embedded(s, "Msvm_ReplicationSettingData", []param{
			{"ReplicationProvider", provider.InstancePath()},
			{"ReplicationInterval", ts.IntervalSeconds},
			{"IncludedDisks", disks},
			{"EnableWriteOrderPreservationAcrossDisks", true},
		})
		return err
	})
	if err != nil {
		return callResult{}, err
	}
	return c.onVM(ctx, vmID, "Msvm_ReplicationService", "CreateReplicationRelationship", "ComputerSystem",
		param{"ReplicationSettingData", settings})
}

// diskSettingPaths maps disk files to the paths of the VM's
// Msvm_StorageAllocationSettingData that hold them.
func diskSettingPaths(s *cim.WmiSession, vmID string, files []string) ([]string, error) {
	sasds, err := queryAll(s, "SELECT * FROM Msvm_StorageAllocationSettingData WHERE InstanceID LIKE "+
		wqlQuote("Microsoft:"+vmID+"%"))
	if err != nil {
		return nil, err
	}
	defer cim.CloseAllInstances(sasds)
	byFile := map[string]string{}
	for _, sd := range sasds {
		if hr := propStrings(sd, "HostResource"); len(hr) > 0 {
			byFile[samePathKey(hr[0])] = sd.InstancePath()
		}
	}
	var out []string
	for _, f := range files {
		p, ok := byFile[samePathKey(f)]
		if !ok {
			return nil, fmt.Errorf("vm %s: no storage setting holds %s", vmID, f)
		}
		out = append(out, p)
	}
	return out, nil
}

func (c *wmiConn) startReplication(ctx context.Context, vmID string) (callResult, error) {
	return c.onVM(ctx, vmID, "Msvm_ReplicationService", "StartReplication", "ComputerSystem",
		param{"InitialReplicationType", initialReplicationNetwork})
}

func (c *wmiConn) removeRelationship(ctx context.Context, vmID string) (callResult, error) {
	return c.onVM(ctx, vmID, "Msvm_ReplicationService", "RemoveReplicationRelationship", "ComputerSystem")
}

func (c *wmiConn) resynchronize(ctx context.Context, vmID string) (callResult, error) {
	return c.onVM(ctx, vmID, "Msvm_ReplicationService", "Resynchronize", "ComputerSystem")
}

// switchLog has no documented WMI method to call: Hyper-V Replica closes
// the logs of a VM itself, every ReplicationInterval, and hands them to
// the replication provider. The backend waits for that switch (see
// doc.go); nothing is asked of the host here.
func (c *wmiConn) switchLog(ctx context.Context, vmID string) (callResult, error) {
	return callResult{Code: codeCompleted}, nil
}
