//go:build windows

package preflight

import (
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
)

func volumeOf(path string) (Volume, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return Volume{}, fmt.Errorf("volume of %s: %w", path, err)
	}
	buf := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumePathName(p, &buf[0], uint32(len(buf))); err != nil {
		return Volume{}, fmt.Errorf("volume of %s: %w", path, err)
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(&buf[0], &free, &total, &totalFree); err != nil {
		return Volume{}, fmt.Errorf("free space of %s: %w", path, err)
	}
	return Volume{ID: strings.ToLower(windows.UTF16ToString(buf)), Free: int64(min(free, 1<<62))}, nil
}
