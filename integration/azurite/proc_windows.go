//go:build windows

package azurite

import "os/exec"

// setGroup is a no-op on Windows; the emulator is one node process.
func setGroup(*exec.Cmd) {}

// killGroup kills the child process.
func killGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}
