package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"hvmigrate/integration/simhost"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// SpecToProto converts a VM spec into a create request.
func SpecToProto(s simhost.VMSpec) *simhostv1.CreateVMRequest {
	out := &simhostv1.CreateVMRequest{
		Name: s.Name, Generation: uint32(s.Generation), CpuCount: uint32(s.CPUs),
		MemoryBytes: s.MemoryBytes, Nics: NICsToProto(s.NICs),
	}
	for _, d := range s.Disks {
		out.Disks = append(out.Disks, &simhostv1.DiskSpec{
			SizeBytes: d.Size, Format: FormatToProto(d.Format), LogicalSectorSize: uint32(d.LogicalSectorSize),
		})
	}
	return out
}

// SpecFromProto converts a create request into a VM spec.
func SpecFromProto(r *simhostv1.CreateVMRequest) simhost.VMSpec {
	out := simhost.VMSpec{
		Name: r.GetName(), Generation: int(r.GetGeneration()), CPUs: int(r.GetCpuCount()),
		MemoryBytes: r.GetMemoryBytes(), NICs: NICsFromProto(r.GetNics()),
	}
	for _, d := range r.GetDisks() {
		out.Disks = append(out.Disks, simhost.DiskSpec{
			Size: d.GetSizeBytes(), Format: FormatFromProto(d.GetFormat()), LogicalSectorSize: int(d.GetLogicalSectorSize()),
		})
	}
	return out
}

// WriteToProto converts a guest write.
func WriteToProto(w simhost.WriteRequest) *simhostv1.WriteDiskRequest {
	out := &simhostv1.WriteDiskRequest{VmId: w.VMID, DiskIndex: uint32(w.Disk), Offset: w.Offset}
	if w.Data != nil {
		out.Payload = &simhostv1.WriteDiskRequest_Data{Data: w.Data}
	} else {
		out.Payload = &simhostv1.WriteDiskRequest_Pattern{Pattern: &simhostv1.PatternData{Length: w.Length, Value: uint32(w.Pattern)}}
	}
	return out
}

// WriteFromProto converts a guest write.
func WriteFromProto(r *simhostv1.WriteDiskRequest) simhost.WriteRequest {
	out := simhost.WriteRequest{VMID: r.GetVmId(), Disk: int(r.GetDiskIndex()), Offset: r.GetOffset()}
	if p := r.GetPattern(); p != nil {
		out.Length, out.Pattern = p.GetLength(), byte(p.GetValue())
	} else {
		out.Data = r.GetData()
		if out.Data == nil {
			out.Data = []byte{}
		}
	}
	return out
}

// WorkloadToProto converts a workload spec.
func WorkloadToProto(s simhost.WorkloadSpec) *simhostv1.RunWorkloadRequest {
	out := &simhostv1.RunWorkloadRequest{
		VmId: s.VMID, Pattern: PatternToProto(s.Pattern), RateBytesPerSecond: s.RateBytesPerSec,
		TotalBytes: s.TotalBytes, OverwriteRatio: s.OverwriteRatio, Seed: s.Seed,
	}
	if s.Duration > 0 {
		out.Duration = durationpb.New(s.Duration)
	}
	for _, d := range s.Disks {
		out.DiskIndexes = append(out.DiskIndexes, uint32(d))
	}
	for _, z := range s.Sizes {
		out.IoSizes = append(out.IoSizes, &simhostv1.IoSize{SizeBytes: z.Bytes, Weight: uint32(z.Weight)})
	}
	return out
}

// WorkloadFromProto converts a workload spec.
func WorkloadFromProto(r *simhostv1.RunWorkloadRequest) simhost.WorkloadSpec {
	out := simhost.WorkloadSpec{
		VMID: r.GetVmId(), Pattern: PatternFromProto(r.GetPattern()), RateBytesPerSec: r.GetRateBytesPerSecond(),
		TotalBytes: r.GetTotalBytes(), OverwriteRatio: r.GetOverwriteRatio(), Seed: r.GetSeed(),
	}
	if r.GetDuration() != nil {
		out.Duration = r.GetDuration().AsDuration()
	}
	for _, d := range r.GetDiskIndexes() {
		out.Disks = append(out.Disks, int(d))
	}
	for _, z := range r.GetIoSizes() {
		out.Sizes = append(out.Sizes, simhost.IOSize{Bytes: z.GetSizeBytes(), Weight: int(z.GetWeight())})
	}
	return out
}

// ProgressToProto converts workload progress.
func ProgressToProto(p simhost.WorkloadProgress) *simhostv1.RunWorkloadResponse {
	return &simhostv1.RunWorkloadResponse{Writes: p.Writes, Bytes: p.Bytes, Elapsed: durationpb.New(p.Elapsed), Done: p.Done}
}

// ProgressFromProto converts workload progress.
func ProgressFromProto(r *simhostv1.RunWorkloadResponse) simhost.WorkloadProgress {
	var el time.Duration
	if r.GetElapsed() != nil {
		el = r.GetElapsed().AsDuration()
	}
	return simhost.WorkloadProgress{Writes: r.GetWrites(), Bytes: r.GetBytes(), Elapsed: el, Done: r.GetDone()}
}
