//go:build linux || darwin || freebsd

package preflight

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func volumeOf(path string) (Volume, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Volume{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	return Volume{ID: fmt.Sprint(st.Fsid), Free: int64(st.Bavail) * int64(st.Bsize)}, nil
}
