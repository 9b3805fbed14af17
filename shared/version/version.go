// Package version holds the release version stamped into every binary and
// the version of the provider↔agent wire protocol.
package version

import "runtime/debug"

// AgentProtocol is the provider↔agent protocol this build speaks. Raise it
// when a change to proto/hvmigrate/agent/v1 breaks older peers.
const AgentProtocol uint32 = 1

// MinAgentProtocol is the oldest provider↔agent protocol this build accepts.
const MinAgentProtocol uint32 = 1

// release is set at link time: -ldflags "-X hvmigrate/shared/version.release=v1.2.3".
var release string

// Release returns the stamped release version, or the module version, or
// "dev" for an unstamped build.
func Release() string {
	if release != "" {
		return release
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
