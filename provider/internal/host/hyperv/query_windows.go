//go:build windows

package hyperv

import (
	"context"
	"fmt"
	"os"
	"strings"

	cim "github.com/microsoft/wmi/pkg/wmiinstance"
)

func (c *wmiConn) queryVMs(ctx context.Context) ([]vmRecord, error) {
	var out []vmRecord
	err := c.do(ctx, "list vms", func(s *cim.WmiSession) error {
		vms, err := queryAll(s, "SELECT * FROM Msvm_ComputerSystem WHERE Caption = 'Virtual Machine'")
		if err != nil {
			return err
		}
		defer cim.CloseAllInstances(vms)
		for _, vm := range vms {
			r, err := vmRecordOf(s, vm)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func (c *wmiConn) queryVM(ctx context.Context, vmID string) (vmRecord, error) {
	var out vmRecord
	err := c.do(ctx, "query vm "+vmID, func(s *cim.WmiSession) error {
		vm, err := vmInstance(s, vmID)
		if err != nil {
			return err
		}
		defer vm.Close()
		out, err = vmRecordOf(s, vm)
		return err
	})
	return out, err
}

// vmRecordOf reads a VM, its realized settings and their components.
func vmRecordOf(s *cim.WmiSession, vm *cim.WmiInstance) (vmRecord, error) {
	r := vmRecord{
		ID:           propString(vm, "Name"),
		Name:         propString(vm, "ElementName"),
		EnabledState: uint16(propInt(vm, "EnabledState")),
		Replication: replicationRecord{
			Mode:   uint16(propInt(vm, "ReplicationMode")),
			State:  uint16(propInt(vm, "ReplicationState")),
			Health: uint16(propInt(vm, "ReplicationHealth")),
		},
	}
	vmPath := vm.InstancePath()
	settings, err := associated(s, vmPath, "Msvm_SettingsDefineState", "Msvm_VirtualSystemSettingData")
	if err != nil {
		return r, err
	}
	defer cim.CloseAllInstances(settings)
	if len(settings) != 1 {
		return r, fmt.Errorf("vm %s: %d realized settings, want 1", r.ID, len(settings))
	}
	r.SubType = propString(settings[0], "VirtualSystemSubType")
	if err := readComponents(s, settings[0].InstancePath(), &r); err != nil {
		return r, err
	}
	r.Snapshots, err = snapshotsOf(s, vmPath)
	return r, err
}

// readComponents fills CPUs, memory, disks and NICs from the settings.
func readComponents(s *cim.WmiSession, vssdPath string, r *vmRecord) error {
	comp := func(class string) ([]*cim.WmiInstance, error) {
		return associated(s, vssdPath, "Msvm_VirtualSystemSettingDataComponent", class)
	}
	for _, class := range []string{"Msvm_ProcessorSettingData", "Msvm_MemorySettingData", "Msvm_StorageAllocationSettingData"} {
		insts, err := comp(class)
		if err != nil {
			return err
		}
		for _, inst := range insts {
			switch class {
			case "Msvm_ProcessorSettingData":
				r.CPUs = int(propInt(inst, "VirtualQuantity"))
			case "Msvm_MemorySettingData":
				r.MemoryMB = propInt(inst, "VirtualQuantity")
			default:
				hr := propStrings(inst, "HostResource")
				d := diskRecord{SubType: propString(inst, "ResourceSubType")}
				if len(hr) > 0 {
					d.Path = hr[0]
				}
				r.Disks = append(r.Disks, d)
			}
		}
		cim.CloseAllInstances(insts)
	}
	var err error
	r.NICs, err = nicsOf(s, comp)
	return err
}

// nicsOf reads synthetic adapters and the switch each one connects to.
// A connection's InstanceID is its adapter's InstanceID plus a suffix.
func nicsOf(s *cim.WmiSession, comp func(string) ([]*cim.WmiInstance, error)) ([]nicRecord, error) {
	ports, err := comp("Msvm_SyntheticEthernetPortSettingData")
	if err != nil {
		return nil, err
	}
	defer cim.CloseAllInstances(ports)
	conns, err := comp("Msvm_EthernetPortAllocationSettingData")
	if err != nil {
		return nil, err
	}
	defer cim.CloseAllInstances(conns)
	var out []nicRecord
	for _, p := range ports {
		n := nicRecord{Name: propString(p, "ElementName"), Address: propString(p, "Address")}
		id := strings.ToLower(propString(p, "InstanceID")) + `\`
		for _, conn := range conns {
			if strings.HasPrefix(strings.ToLower(propString(conn, "InstanceID")), id) {
				n.SwitchName = switchName(s, propStrings(conn, "HostResource"))
			}
		}
		out = append(out, n)
	}
	return out, nil
}

func switchName(s *cim.WmiSession, hostResource []string) string {
	if len(hostResource) == 0 || hostResource[0] == "" {
		return ""
	}
	sw, err := s.GetInstance(hostResource[0])
	if err != nil {
		return ""
	}
	defer sw.Close()
	return propString(sw, "ElementName")
}

// snapshotsOf lists a VM's snapshots.
func snapshotsOf(s *cim.WmiSession, vmPath string) ([]snapshotRecord, error) {
	snaps, err := associated(s, vmPath, "Msvm_SnapshotOfVirtualSystem", "Msvm_VirtualSystemSettingData")
	if err != nil {
		return nil, err
	}
	defer cim.CloseAllInstances(snaps)
	var out []snapshotRecord
	for _, sn := range snaps {
		out = append(out, snapshotRecord{
			Path:       sn.InstancePath(),
			InstanceID: propString(sn, "InstanceID"),
			Name:       propString(sn, "ElementName"),
			Type:       propString(sn, "VirtualSystemType"),
			Created:    parseCIMTime(propString(sn, "CreationTime")),
		})
	}
	return out, nil
}

// vhdSettings asks the image management service about one file. The
// method is expected to answer synchronously; a job is reported as
// unsupported here because its result would be lost.
func (c *wmiConn) vhdSettings(ctx context.Context, path string) (vhdRecord, error) {
	var out vhdRecord
	op := "GetVirtualHardDiskSettingData " + path
	err := c.do(ctx, op, func(s *cim.WmiSession) error {
		ims, err := service(s, "Msvm_ImageManagementService")
		if err != nil {
			return err
		}
		defer ims.Close()
		res, vals, err := exec(ims, "GetVirtualHardDiskSettingData", []param{{"Path", path}}, "Job", "SettingData")
		if err != nil {
			return err
		}
		if res.Code != codeCompleted {
			return &codeError{Op: op, Code: res.Code, Desc: "expected a synchronous answer"}
		}
		props, err := parseEmbeddedInstance(toString(vals["SettingData"]), "Msvm_VirtualHardDiskSettingData")
		out = vhdRecordFromProps(props)
		return err
	})
	return out, err
}

func (c *wmiConn) jobStatus(ctx context.Context, jobPath string) (jobRecord, error) {
	var out jobRecord
	err := c.do(ctx, "read job", func(s *cim.WmiSession) error {
		job, err := s.GetInstance(jobPath)
		if err != nil {
			return comErr("get job "+jobPath, err)
		}
		defer job.Close()
		out = jobRecord{
			State:       uint16(propInt(job, "JobState")),
			ErrorCode:   uint16(propInt(job, "ErrorCode")),
			Description: propString(job, "ErrorDescription"),
			Percent:     uint16(propInt(job, "PercentComplete")),
		}
		return nil
	})
	return out, err
}

// The file operations run on the caller's goroutine: they are not COM.

func (c *wmiConn) dataWriteGUID(ctx context.Context, path string) (string, error) {
	return readDataWriteGUID(path)
}

func (c *wmiConn) listLogs(ctx context.Context, dir, stem string) ([]logFile, error) {
	return scanLogs(dir, stem)
}

func (c *wmiConn) removeFile(ctx context.Context, path string) error {
	return os.Remove(path)
}
