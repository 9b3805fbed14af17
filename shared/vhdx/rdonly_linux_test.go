package vhdx

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestOpen_opensEveryFileReadOnly checks the access mode of every file a
// Disk holds, which also covers runs as root, where permission bits do not
// stop writes.
func TestOpen_opensEveryFileReadOnly(t *testing.T) {
	path, _, _ := dirtyFixture(t, t.TempDir())
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for l := d.top; l != nil; l = l.parent {
		info, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", l.src.f.Fd()))
		if err != nil {
			t.Skipf("no fdinfo: %v", err)
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "flags:"); ok {
				flags, _ := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
				if flags&3 != int64(os.O_RDONLY) {
					t.Fatalf("%s opened with flags %o", l.path, flags)
				}
			}
		}
	}
}
