// Package testenv lets tests that need an external tool or service skip when
// run by hand without it, and fail instead when HVM_TEST_NOSKIP is set, as CI
// does, so that a missing dependency can never pass as a skipped test.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// NoSkipVar is the environment variable that turns skips into failures.
const NoSkipVar = "HVM_TEST_NOSKIP"

// Skip skips the test, or fails it when skipping is disallowed.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(NoSkipVar) != "" {
		t.Fatalf("%s (skipping is disallowed because %s is set)", reason, NoSkipVar)
	}
	t.Skip(reason)
}

// LookTool returns the path of an executable on PATH, or skips the test.
func LookTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Skip(t, name+" is not installed: "+err.Error())
	}
	return path
}
