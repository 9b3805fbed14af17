package simhost

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
	"hvmigrate/shared/vhdx"
)

// diskImage is a disk opened for guest writes.
type diskImage interface {
	vdisk.Image
	io.WriterAt
	Flush() error
}

var _ diskImage = (*vhdx.Writer)(nil)

// openImage opens a disk file read-only by its extension: .vhd, or
// .vhdx/.avhdx.
func openImage(path string) (vdisk.Image, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".vhd":
		return vhd.Open(path)
	case ".vhdx", ".avhdx":
		return vhdx.Open(path)
	}
	return nil, fmt.Errorf("%s: unknown disk file extension: %w", path, ErrUnsupported)
}

// openWriter opens the top file of a disk for guest writes and starts a
// write session: a VHDX takes its new DataWriteGuid now, so the identity
// stays the same for every log created in the session.
func openWriter(path string, f DiskFormat) (diskImage, error) {
	if f == FormatVHDFixed {
		return openFixedVHD(path)
	}
	w, err := vhdx.OpenWriter(path)
	if err != nil {
		return nil, err
	}
	if err := startSession(w); err != nil {
		return nil, err
	}
	return w, nil
}

// startSession makes w take its new DataWriteGuid now, before any log
// samples it.
func startSession(w *vhdx.Writer) error {
	if err := w.Touch(); err != nil {
		w.Close()
		return fmt.Errorf("start write session: %w", err)
	}
	return nil
}

// readClipped reads f as a disk of size bytes: reads past size return
// io.EOF as os.File does.
func readClipped(f *os.File, size int64, p []byte, off int64) (int, error) {
	if off >= size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := size - off; int64(want) > rest {
		p = p[:rest]
	}
	n, err := f.ReadAt(p, off)
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}
