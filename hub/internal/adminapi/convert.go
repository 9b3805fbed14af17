package adminapi

import (
	"time"

	"hvmigrate/hub/internal/state"
	adminv1 "hvmigrate/shared/gen/hvmigrate/admin/v1"
)

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func projectToProto(p state.Project) *adminv1.Project {
	return &adminv1.Project{Id: p.ID, Name: p.Name, CreatedUnix: unixOrZero(p.CreatedAt)}
}

func keyToProto(k state.Key) *adminv1.RegistrationKey {
	return &adminv1.RegistrationKey{Id: k.ID, ProjectId: k.ProjectID, State: string(k.State),
		CreatedUnix: unixOrZero(k.CreatedAt), ExpiresUnix: unixOrZero(k.ExpiresAt), RedeemedByHost: k.RedeemedBy}
}

func (s *Server) hostToProto(h state.Host) *adminv1.Host {
	return &adminv1.Host{Id: h.ID, ProjectId: h.ProjectID, Hostname: h.Hostname, CertSerial: h.CertSerial,
		CertNotAfterUnix: unixOrZero(h.CertNotAfter), Revoked: h.Revoked, CreatedUnix: unixOrZero(h.CreatedAt),
		LastSeenUnix: unixOrZero(h.LastSeen), Connected: s.streams != nil && s.streams.Connected(h.ID)}
}

func vmToProto(vm state.VM) *adminv1.Vm {
	var total uint64
	for _, d := range vm.Disks {
		total += d.SizeBytes
	}
	out := &adminv1.Vm{Id: vm.ID, HostId: vm.HostID, Name: vm.Name, PowerState: vm.PowerState,
		DiskCount: uint32(len(vm.Disks)), TotalBytes: total, UpdatedUnix: unixOrZero(vm.UpdatedAt),
		Generation: vm.Generation, Vcpus: vm.VCPUs, MemoryBytes: vm.MemoryBytes}
	for _, n := range vm.NICs {
		out.Nics = append(out.Nics, &adminv1.Nic{Name: n.Name, SwitchName: n.SwitchName, MacAddress: n.MACAddress})
	}
	return out
}
