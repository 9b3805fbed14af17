//go:build !windows

package hostlimits

// RegistryThreads returns 0: only Windows hosts have the registry value.
func RegistryThreads() int { return 0 }
