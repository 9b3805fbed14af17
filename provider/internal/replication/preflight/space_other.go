//go:build !linux && !darwin && !freebsd && !windows

package preflight

import "fmt"

func volumeOf(path string) (Volume, error) {
	return Volume{}, fmt.Errorf("volume of %s: %w", path, ErrSpaceUnknown)
}
