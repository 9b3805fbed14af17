package wire

import (
	"hvmigrate/integration/simhost"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// ChecksumsToProto converts disk checksums.
func ChecksumsToProto(cs []simhost.DiskChecksum) []*simhostv1.DiskChecksum {
	var out []*simhostv1.DiskChecksum
	for _, c := range cs {
		out = append(out, &simhostv1.DiskChecksum{Index: uint32(c.Index), DiskId: c.DiskID, SizeBytes: c.Size, Sha256: c.SHA256})
	}
	return out
}

// ChecksumsFromProto converts disk checksums.
func ChecksumsFromProto(cs []*simhostv1.DiskChecksum) []simhost.DiskChecksum {
	var out []simhost.DiskChecksum
	for _, c := range cs {
		out = append(out, simhost.DiskChecksum{Index: int(c.GetIndex()), DiskID: c.GetDiskId(), Size: c.GetSizeBytes(), SHA256: c.GetSha256()})
	}
	return out
}

// FrozenToProto converts frozen disks.
func FrozenToProto(fs []simhost.FrozenDisk) []*simhostv1.FrozenDisk {
	var out []*simhostv1.FrozenDisk
	for _, f := range fs {
		out = append(out, &simhostv1.FrozenDisk{Index: uint32(f.Index), DiskId: f.DiskID, Path: f.Path, SizeBytes: f.Size})
	}
	return out
}

// FrozenFromProto converts frozen disks.
func FrozenFromProto(fs []*simhostv1.FrozenDisk) []simhost.FrozenDisk {
	var out []simhost.FrozenDisk
	for _, f := range fs {
		out = append(out, simhost.FrozenDisk{Index: int(f.GetIndex()), DiskID: f.GetDiskId(), Path: f.GetPath(), Size: f.GetSizeBytes()})
	}
	return out
}

// SwitchToProto converts a switch result.
func SwitchToProto(r simhost.SwitchResult) *simhostv1.SwitchLogsResponse {
	out := &simhostv1.SwitchLogsResponse{SwitchNumber: r.Number, NeedsResync: r.NeedsResync, ResyncReason: r.ResyncReason}
	for _, d := range r.Disks {
		out.Disks = append(out.Disks, &simhostv1.SwitchedDisk{
			Index: uint32(d.Index), DiskId: d.DiskID, ClosedLogPaths: d.ClosedLogs, NewLogPath: d.NewLog, Sha256: d.SHA256,
		})
	}
	return out
}

// SwitchFromProto converts a switch result.
func SwitchFromProto(r *simhostv1.SwitchLogsResponse) simhost.SwitchResult {
	out := simhost.SwitchResult{Number: r.GetSwitchNumber(), NeedsResync: r.GetNeedsResync(), ResyncReason: r.GetResyncReason()}
	for _, d := range r.GetDisks() {
		out.Disks = append(out.Disks, simhost.SwitchedDisk{
			Index: int(d.GetIndex()), DiskID: d.GetDiskId(), ClosedLogs: d.GetClosedLogPaths(), NewLog: d.GetNewLogPath(), SHA256: d.GetSha256(),
		})
	}
	return out
}
