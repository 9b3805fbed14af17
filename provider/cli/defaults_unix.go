//go:build !windows

package cli

func defaultIdentityDir() string { return "/var/lib/hvmigrate/provider/identity" }
