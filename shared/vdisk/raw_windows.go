package vdisk

import "os"

// nextData reports the rest of the file as data: holes are not queried on
// Windows.
func nextData(_ *os.File, off, size int64) (start, end int64, err error) {
	return off, size, nil
}
