//go:build !windows

package cli

func defaultStateDir() string { return "/var/lib/hvmigrate/agent" }
