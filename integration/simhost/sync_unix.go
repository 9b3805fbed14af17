//go:build !windows

package simhost

import (
	"errors"
	"syscall"
)

// isSyncUnsupported reports a file system that cannot sync directories.
func isSyncUnsupported(err error) bool { return errors.Is(err, syscall.EINVAL) }
