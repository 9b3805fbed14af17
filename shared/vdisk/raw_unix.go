//go:build linux || darwin || freebsd

package vdisk

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// nextData finds the first data range at or after off with SEEK_DATA and
// SEEK_HOLE. With no data left it returns (size, size); when the file
// system cannot tell, it returns [off, size) as data.
func nextData(f *os.File, off, size int64) (start, end int64, err error) {
	start, err = seek(f, off, unix.SEEK_DATA)
	switch {
	case errors.Is(err, unix.ENXIO):
		return size, size, nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP):
		return off, size, nil
	case err != nil:
		return 0, 0, err
	}
	end, err = seek(f, start, unix.SEEK_HOLE)
	if err != nil {
		return start, size, nil
	}
	return start, end, nil
}

// seek runs lseek on f's descriptor. Extents use absolute offsets only, so
// the descriptor's position is irrelevant and reads (pread) are unaffected.
func seek(f *os.File, off int64, whence int) (int64, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var pos int64
	var serr error
	err = rc.Control(func(fd uintptr) {
		pos, serr = unix.Seek(int(fd), off, whence)
	})
	if err != nil {
		return 0, err
	}
	return pos, serr
}
