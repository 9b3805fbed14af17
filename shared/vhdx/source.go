package vhdx

import (
	"io"
	"os"
)

// source reads the container file as it is after log replay: the file's
// bytes, zeros between its end and the replayed size, and the overlay.
// ReadAt uses pread and is safe for concurrent use.
type source struct {
	r    io.ReaderAt // the file (an *os.File except in tests)
	f    *os.File    // nil when r is not a file
	phys int64       // bytes in the file
	ov   *overlay    // nil when no replay is needed
}

// size is the file size after replay.
func (s *source) size() int64 {
	if s.ov != nil {
		return max(s.phys, s.ov.end)
	}
	return s.phys
}

// ReadAt fills p from offset off; reading past size is an error.
func (s *source) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.size() || int64(len(p)) > s.size()-off {
		return 0, errf(ErrCorrupt, "read [0x%x, +0x%x) beyond end of file 0x%x", off, len(p), s.size())
	}
	n := 0
	if off < s.phys {
		k := int(min(int64(len(p)), s.phys-off))
		m, err := s.r.ReadAt(p[:k], off)
		if err != nil && (err != io.EOF || m < k) {
			return m, err
		}
		n = m
	}
	clear(p[n:])
	if s.ov != nil {
		s.ov.patch(p, off)
	}
	return len(p), nil
}

// readN reads n bytes at off into a new slice.
func (s *source) readN(off, n int64) ([]byte, error) {
	b := make([]byte, n)
	_, err := s.ReadAt(b, off)
	return b, err
}
