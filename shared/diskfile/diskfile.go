package diskfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"hvmigrate/shared/vdisk"
	"hvmigrate/shared/vhd"
	"hvmigrate/shared/vhdx"
)

// ErrUnknownFormat means the file is neither VHD nor VHDX and not named or
// typed as a raw image.
var ErrUnknownFormat = errors.New("unknown disk format")

// Format names a disk file format.
type Format string

// The formats Sniff reports.
const (
	FormatVHD  Format = "vhd"
	FormatVHDX Format = "vhdx"
	FormatRaw  Format = "raw"
)

// Open sniffs the format of path and opens it with the matching reader.
func Open(path string) (vdisk.Image, error) {
	format, err := Sniff(path)
	if err != nil {
		return nil, err
	}
	switch format {
	case FormatVHDX:
		return image(vhdx.Open(path))
	case FormatVHD:
		return image(vhd.Open(path))
	default:
		return image(vdisk.OpenRaw(path))
	}
}

// image converts a reader's result to an Image, returning a nil interface
// (not a typed nil pointer) on error.
func image[T vdisk.Image](d T, err error) (vdisk.Image, error) {
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Sniff tells the format of path from its content, its name and its type.
func Sniff(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("diskfile: %w", err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", fmt.Errorf("diskfile: %s: size: %w", path, err)
	}
	if format, err := sniffContent(f, size); format != "" || err != nil {
		if err != nil {
			return "", fmt.Errorf("diskfile: %s: %w", path, err)
		}
		return format, nil
	}
	if rawByName(path) || isBlockDevice(f) {
		return FormatRaw, nil
	}
	return "", fmt.Errorf("diskfile: %s: %w: no VHDX signature or VHD footer, and not a .raw/.img file or block device",
		path, ErrUnknownFormat)
}

// sniffContent looks for the VHDX signature and the VHD cookies.
func sniffContent(f io.ReaderAt, size int64) (Format, error) {
	probes := []struct {
		off   int64
		magic string
		fmt   Format
	}{
		{0, "vhdxfile", FormatVHDX},
		{0, "conectix", FormatVHD},
		{size - vhd.FooterSize, "conectix", FormatVHD},
		{size - vhd.FooterSize + 1, "conectix", FormatVHD},
	}
	buf := make([]byte, 8)
	for _, p := range probes {
		if p.off < 0 || p.off+8 > size {
			continue
		}
		if _, err := f.ReadAt(buf, p.off); err != nil {
			return "", fmt.Errorf("read at %d: %w", p.off, err)
		}
		if string(buf) == p.magic {
			return p.fmt, nil
		}
	}
	return "", nil
}

// rawByName reports whether the name says raw image.
func rawByName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".raw" || ext == ".img"
}

// isBlockDevice reports whether f is a block device.
func isBlockDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeDevice != 0 && fi.Mode()&os.ModeCharDevice == 0
}
