// Package wire converts between the daemon's plain Go types and the
// generated simhost protobuf messages, in both directions, and maps the
// daemon's error classes to gRPC statuses and back. The server and the
// client are its only users, so both sides agree by construction.
package wire

import (
	"hvmigrate/integration/simhost"
	simhostv1 "hvmigrate/shared/gen/hvmigrate/simhost/v1"
)

// formats pairs the daemon's disk formats with the wire's.
func formats() map[simhost.DiskFormat]simhostv1.DiskFormat {
	return map[simhost.DiskFormat]simhostv1.DiskFormat{
		simhost.FormatVHDXDynamic: simhostv1.DiskFormat_DISK_FORMAT_VHDX_DYNAMIC,
		simhost.FormatVHDXFixed:   simhostv1.DiskFormat_DISK_FORMAT_VHDX_FIXED,
		simhost.FormatVHDFixed:    simhostv1.DiskFormat_DISK_FORMAT_VHD_FIXED,
	}
}

// FormatToProto converts a disk format; unknown ones are unspecified.
func FormatToProto(f simhost.DiskFormat) simhostv1.DiskFormat { return formats()[f] }

// FormatFromProto converts a disk format; unspecified is "" (the default).
func FormatFromProto(f simhostv1.DiskFormat) simhost.DiskFormat {
	for k, v := range formats() {
		if v == f {
			return k
		}
	}
	if f == simhostv1.DiskFormat_DISK_FORMAT_UNSPECIFIED {
		return ""
	}
	return simhost.DiskFormat(f.String())
}

// powers pairs the daemon's power states with the wire's.
func powers() map[simhost.PowerState]simhostv1.PowerState {
	return map[simhost.PowerState]simhostv1.PowerState{
		simhost.PowerOff:      simhostv1.PowerState_POWER_STATE_OFF,
		simhost.PowerRunning:  simhostv1.PowerState_POWER_STATE_RUNNING,
		simhost.PowerStopping: simhostv1.PowerState_POWER_STATE_STOPPING,
	}
}

// PowerToProto converts a power state.
func PowerToProto(p simhost.PowerState) simhostv1.PowerState { return powers()[p] }

// PowerFromProto converts a power state.
func PowerFromProto(p simhostv1.PowerState) simhost.PowerState {
	for k, v := range powers() {
		if v == p {
			return k
		}
	}
	return simhost.PowerState(p.String())
}

// StopModeToProto converts a stop mode.
func StopModeToProto(m simhost.StopMode) simhostv1.StopMode {
	switch m {
	case simhost.StopShutdown:
		return simhostv1.StopMode_STOP_MODE_SHUTDOWN
	case simhost.StopTurnOff:
		return simhostv1.StopMode_STOP_MODE_TURN_OFF
	}
	return simhostv1.StopMode_STOP_MODE_UNSPECIFIED
}

// StopModeFromProto converts a stop mode; unspecified means shutdown.
func StopModeFromProto(m simhostv1.StopMode) simhost.StopMode {
	switch m {
	case simhostv1.StopMode_STOP_MODE_UNSPECIFIED, simhostv1.StopMode_STOP_MODE_SHUTDOWN:
		return simhost.StopShutdown
	case simhostv1.StopMode_STOP_MODE_TURN_OFF:
		return simhost.StopTurnOff
	}
	return simhost.StopMode(m.String())
}

// PatternToProto converts a workload pattern.
func PatternToProto(p simhost.Pattern) simhostv1.WorkloadPattern {
	switch p {
	case simhost.PatternRandom:
		return simhostv1.WorkloadPattern_WORKLOAD_PATTERN_RANDOM
	case simhost.PatternSequential:
		return simhostv1.WorkloadPattern_WORKLOAD_PATTERN_SEQUENTIAL
	}
	return simhostv1.WorkloadPattern_WORKLOAD_PATTERN_UNSPECIFIED
}

// PatternFromProto converts a workload pattern; unspecified is "".
func PatternFromProto(p simhostv1.WorkloadPattern) simhost.Pattern {
	switch p {
	case simhostv1.WorkloadPattern_WORKLOAD_PATTERN_UNSPECIFIED:
		return ""
	case simhostv1.WorkloadPattern_WORKLOAD_PATTERN_RANDOM:
		return simhost.PatternRandom
	case simhostv1.WorkloadPattern_WORKLOAD_PATTERN_SEQUENTIAL:
		return simhost.PatternSequential
	}
	return simhost.Pattern(p.String())
}
