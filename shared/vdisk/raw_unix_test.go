//go:build linux || darwin || freebsd

package vdisk

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// fsReportsHoles asks the kernel directly whether the file has a hole
// before its end, to know whether Extents must find one.
func fsReportsHoles(t *testing.T, path string, size int64) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hole, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_HOLE)
	return err == nil && hole < size
}
