//go:build windows

package vhdx

// syncDir is a no-op on Windows, where renames are durable once the call
// returns on NTFS and directories cannot be opened for syncing.
func syncDir(dir string) error { return nil }
