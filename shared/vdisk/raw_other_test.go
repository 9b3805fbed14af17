//go:build !(linux || darwin || freebsd)

package vdisk

import "testing"

// fsReportsHoles is false where Extents does not query holes.
func fsReportsHoles(*testing.T, string, int64) bool { return false }
